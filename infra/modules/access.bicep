// Every role assignment of the system, least privilege, each at the narrowest scope that works.
// Role ids are Azure built-in role definitions (the same GUID in every tenant).
//
// | who       | role                                  | on                    | why                                   |
// |-----------|---------------------------------------|-----------------------|---------------------------------------|
// | functions | Storage Blob Data Owner               | storage account       | host storage, blob trigger receipts, |
// |           |                                       |                       | Flex package, pipeline containers,    |
// |           |                                       |                       | promotion (models/current.json)       |
// | functions | Storage Queue Data Contributor        | storage account       | task hub queues, upload-events queue  |
// | functions | Storage Table Data Contributor        | storage account       | task hub history and instances        |
// | functions | Azure Service Bus Data Sender         | namespace             | enqueue label requests and train jobs |
// |           | (no Receiver: completions come back as blobs in runs/, and Functions has no Service Bus trigger) |
// | functions | Monitoring Metrics Publisher          | Application Insights  | Entra ID telemetry ingestion          |
// | worker    | Storage Blob Data Reader              | incoming, training    | images to label and to train on       |
// | worker    | Storage Blob Data Contributor         | labels, rejected, runs| records, batch files, job results     |
// | worker    | Storage Blob Data Contributor, with a | models                | read every version and current.json,  |
// |           | condition: no write or delete of      |                       | publish candidate folders; promotion  |
// |           | current.json                          |                       | stays with the control plane          |
// | worker    | Azure Service Bus Data Receiver       | namespace             | receive, complete, dead-letter        |
// | worker    | Azure Service Bus Data Sender         | namespace             | re-queue split or follow-up work      |
// | worker    | AcrPull                               | registry              | pull its image                        |
// | worker    | Monitoring Metrics Publisher          | Application Insights  | Entra ID telemetry ingestion          |
// | events    | Storage Queue Data Message Sender     | upload-events queue   | Event Grid delivery                   |
// | deployer  | Storage Blob Data Contributor on incoming and training, Service Bus Data Sender (optional:      |
// |           | principalId set) | upload images and training data, start batches                               |
//
// The worker decodes untrusted images with native codecs, so it holds nothing on the account itself: not the
// Function App's package container, not the task hub, not the pointer to the promoted model. Container scope is
// the finest a role assignment offers for blobs; inside models/ a condition (Azure ABAC) keeps current.json out of
// its reach. It can still write any version folder: a candidate's name is not known in advance and a promoted
// version was a candidate, so no path pattern tells them apart; a changed manifest or weights file fails the
// SHA-256 checks on load, and current.json pins the promoted manifest's SHA-256 (docs/model.md). Tagging source
// images (Worker:TagSourceImages, off by default) needs the tags/write data action, which neither Reader nor
// Contributor holds; grant it separately if it is turned on.

@description('Storage account name.')
param storageAccountName string

@description('Queue Event Grid writes upload events to.')
param uploadEventsQueueName string

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Container registry name.')
param registryName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Principal id of the Function App identity.')
param functionsPrincipalId string

@description('Principal id of the worker identity.')
param workerPrincipalId string

@description('Principal id of the identity Event Grid delivers with.')
param eventsPrincipalId string

@description('Optional principal (the person or pipeline running azd) given data access for uploads and batches.')
param deployerPrincipalId string = ''

@description('Type of that principal.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource incoming 'containers' existing = {
      name: 'incoming'
    }

    resource training 'containers' existing = {
      name: 'training'
    }

    resource labels 'containers' existing = {
      name: 'labels'
    }

    resource rejected 'containers' existing = {
      name: 'rejected'
    }

    resource runs 'containers' existing = {
      name: 'runs'
    }

    resource models 'containers' existing = {
      name: 'models'
    }
  }

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource uploadEventsQueue 'queues' existing = {
      name: uploadEventsQueueName
    }
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = {
  name: registryName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Functions identity.

// Owner, not Contributor: the blob trigger writes and reads its receipts with this identity, and the docs for
// identity-based AzureWebJobsStorage ask for Owner.
resource functionsBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionsPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource functionsQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionsPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource functionsTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionsPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

resource functionsServiceBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, functionsPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}

resource functionsMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionsPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// Worker identity.

resource workerIncomingReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::incoming.id, workerPrincipalId, roles.storageBlobDataReader)
  scope: storage::blobService::incoming
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource workerTrainingReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::training.id, workerPrincipalId, roles.storageBlobDataReader)
  scope: storage::blobService::training
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource workerLabelsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::labels.id, workerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::labels
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource workerRejectedContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::rejected.id, workerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::rejected
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource workerRunsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::runs.id, workerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::runs
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

// Every write, add, delete or rename in models/ must name another blob than the pointer to the promoted version,
// which is the control plane's. Reads are outside the condition: the worker loads current.json and every version.
var workerModelsCondition = '''
(
  (
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})
    AND
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})
    AND
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
    AND
    !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'})
  )
  OR
  (
    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringNotEquals 'current.json'
  )
)
'''

resource workerModelsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::models.id, workerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::models
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    description: 'Publish candidate model folders; never write or delete models/current.json'
    conditionVersion: '2.0'
    condition: workerModelsCondition
  }
}

resource workerServiceBusReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, workerPrincipalId, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
  }
}

// Sender as well: the worker may hand work back to the queues (a chunk split when it cannot finish inside its
// lock, a follow-up job). Chunk and train completions themselves are blobs under runs/.
resource workerServiceBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, workerPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}

resource workerAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, workerPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
  }
}

resource workerMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, workerPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// Event Grid's delivery identity: may only add messages, and only to the one queue.
resource eventsQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::uploadEventsQueue.id, eventsPrincipalId, roles.storageQueueDataMessageSender)
  scope: storage::queueService::uploadEventsQueue
  properties: {
    principalId: eventsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
  }
}

// The deployer, when azd passes AZURE_PRINCIPAL_ID: enough to upload images and training data and start batches by
// hand; labels are read through the API.

resource deployerIncomingContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(storage::blobService::incoming.id, deployerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::incoming
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource deployerTrainingContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(storage::blobService::training.id, deployerPrincipalId, roles.storageBlobDataContributor)
  scope: storage::blobService::training
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource deployerServiceBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(serviceBus.id, deployerPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}
