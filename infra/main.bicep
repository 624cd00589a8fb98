// AlexNet.Pipeline on Azure: storage, Service Bus, the Function App (Flex Consumption) and the GPU worker
// (Container Apps), wired with user-assigned identities and no keys. Deployed by `azd up` (see docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer the chosen GPU workload profile (docs/deploy.md).')
param location string

@description('Object id of the person or pipeline running azd (AZURE_PRINCIPAL_ID); gets data access for uploads and batches. Empty for none.')
param principalId string = ''

@description('Type of that principal.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Service Bus tier.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('GPU workload profile type for the worker.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'NC24-A100'
  'NC48-A100'
  'NC96-A100'
])
param workerGpuProfile string = 'Consumption-GPU-NC8as-T4'

@description('Most worker replicas (GPUs, or GPU nodes for dedicated profiles).')
@minValue(1)
@maxValue(50)
param workerMaxReplicas int = 4

@description('Label-request backlog (chunk messages) per worker replica before another starts.')
@minValue(1)
param workerMessagesPerReplica int = 500

@description('Worker image, set by azd deploy (SERVICE_WORKER_IMAGE_NAME); empty on the first provision.')
param workerImageName string = ''

@description('How BlobCreated events for incoming/ reach the Function App (modules/upload-events.bicep).')
@allowed([
  'StorageQueue'
  'AzureFunction'
  'None'
])
param uploadEventDelivery string = 'StorageQueue'

@description('Upper bound on Function App instances.')
@minValue(40)
@maxValue(1000)
param functionsMaximumInstanceCount int = 100

var tags = {
  'azd-env-name': environmentName
  application: 'alexnet-pipeline'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var deploymentContainerName = 'function-packages'
var uploadEventsQueueName = 'upload-events'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    workspaceName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
  }
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    functionsIdentityName: 'id-func-${resourceToken}'
    workerIdentityName: 'id-worker-${resourceToken}'
    eventsIdentityName: 'id-events-${resourceToken}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: 'st${resourceToken}'
    deploymentContainerName: deploymentContainerName
    uploadEventsQueueName: uploadEventsQueueName
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: 'sb-${resourceToken}'
    skuName: serviceBusSku
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: 'cr${resourceToken}'
  }
}

module access 'modules/access.bicep' = {
  name: 'access'
  scope: resourceGroup
  params: {
    storageAccountName: storage.outputs.name
    uploadEventsQueueName: storage.outputs.uploadEventsQueueName
    serviceBusNamespaceName: serviceBus.outputs.name
    registryName: registry.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionsPrincipalId: identities.outputs.functionsIdentityPrincipalId
    workerPrincipalId: identities.outputs.workerIdentityPrincipalId
    eventsPrincipalId: identities.outputs.eventsIdentityPrincipalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    identityId: identities.outputs.functionsIdentityId
    identityClientId: identities.outputs.functionsIdentityClientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    labelQueueName: serviceBus.outputs.labelRequestsQueueName
    trainQueueName: serviceBus.outputs.trainJobsQueueName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    maximumInstanceCount: functionsMaximumInstanceCount
  }
  // The host starts as soon as the site exists and reads its storage with this identity.
  dependsOn: [
    access
  ]
}

module worker 'modules/worker.bicep' = {
  name: 'worker'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    environmentName: 'cae-${resourceToken}'
    name: 'worker'
    gpuProfileType: workerGpuProfile
    imageName: workerImageName
    identityId: identities.outputs.workerIdentityId
    identityClientId: identities.outputs.workerIdentityClientId
    registryLoginServer: registry.outputs.loginServer
    serviceBusNamespaceName: serviceBus.outputs.name
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    labelQueueName: serviceBus.outputs.labelRequestsQueueName
    trainQueueName: serviceBus.outputs.trainJobsQueueName
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    maxReplicas: workerMaxReplicas
    messagesPerReplica: workerMessagesPerReplica
  }
  // A revision pulls from the registry with AcrPull, and KEDA reads the queue with the Receiver role.
  dependsOn: [
    access
  ]
}

module uploadEvents 'modules/upload-events.bicep' = {
  name: 'upload-events'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    topicName: 'evgt-${resourceToken}'
    storageAccountName: storage.outputs.name
    delivery: uploadEventDelivery
    queueName: storage.outputs.uploadEventsQueueName
    eventsIdentityId: identities.outputs.eventsIdentityId
    functionAppId: functions.outputs.id
  }
  // Event Grid checks at creation that its identity may write to the queue.
  dependsOn: [
    access
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output AZURE_STORAGE_CONTAINERS array = storage.outputs.dataContainerNames
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.name
output AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output AZURE_FUNCTION_APP_HOST_NAME string = functions.outputs.defaultHostName
output AZURE_FUNCTIONS_IDENTITY_CLIENT_ID string = identities.outputs.functionsIdentityClientId
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = worker.outputs.environmentName
output AZURE_CONTAINER_APPS_ENVIRONMENT_ID string = worker.outputs.environmentId
output AZURE_CONTAINER_APP_WORKER_NAME string = worker.outputs.name
output AZURE_WORKER_IDENTITY_CLIENT_ID string = identities.outputs.workerIdentityClientId
output AZURE_WORKER_GPU_PROFILE string = workerGpuProfile
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.workspaceName
output AZURE_UPLOAD_EVENTS_QUEUE string = storage.outputs.uploadEventsQueueName
