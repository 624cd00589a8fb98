// One user-assigned identity per caller, so each gets only the roles it needs (see access.bicep).

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Identity of the Function App.')
param functionsIdentityName string

@description('Identity of the GPU worker container app.')
param workerIdentityName string

@description('Identity Event Grid uses to deliver upload events to the storage queue.')
param eventsIdentityName string

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: functionsIdentityName
  location: location
  tags: tags
}

resource workerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: workerIdentityName
  location: location
  tags: tags
}

resource eventsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: eventsIdentityName
  location: location
  tags: tags
}

output functionsIdentityId string = functionsIdentity.id
output functionsIdentityClientId string = functionsIdentity.properties.clientId
output functionsIdentityPrincipalId string = functionsIdentity.properties.principalId
output workerIdentityId string = workerIdentity.id
output workerIdentityClientId string = workerIdentity.properties.clientId
output workerIdentityPrincipalId string = workerIdentity.properties.principalId
output eventsIdentityId string = eventsIdentity.id
output eventsIdentityPrincipalId string = eventsIdentity.properties.principalId
