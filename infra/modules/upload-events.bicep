// BlobCreated events for incoming/ through an Event Grid system topic on the storage account: the low-latency
// path of DESIGN.md (a periodic sweep in the app catches anything the events miss).
//
// Two key-free ways to reach the Function App:
// - StorageQueue (default): Event Grid writes each event to a queue of the same account, authenticating with
//   its own user-assigned identity; OnImageUploaded is a queue trigger on that queue (connection "Storage").
//   Works on the first provision, before any code is deployed, and gives retries and a poison queue.
// - AzureFunction: delivers straight to the function resource. Event Grid accepts this destination only for
//   an Event Grid-triggered function that is already deployed, so it needs a second provision after the
//   first deploy. A blob trigger with Source = EventGrid listens on /runtime/webhooks/blobs, which takes the
//   blobs_extension system key instead: that path is not offered because no key may appear in this template.

@description('Tags applied to every resource.')
param tags object

@description('Azure region (the storage account\'s).')
param location string

@description('System topic name.')
param topicName string

@description('Storage account name.')
param storageAccountName string

@description('How events reach the app.')
@allowed([
  'StorageQueue'
  'AzureFunction'
  'None'
])
param delivery string = 'StorageQueue'

@description('Queue in the storage account that StorageQueue delivery writes to.')
param queueName string

@description('Resource id of the identity Event Grid delivers with (Storage Queue Data Message Sender).')
param eventsIdentityId string

@description('Function App resource id (AzureFunction delivery).')
param functionAppId string

@description('Name of the upload function.')
param functionName string = 'OnImageUploaded'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

var incomingFilter = {
  includedEventTypes: [
    'Microsoft.Storage.BlobCreated'
  ]
  subjectBeginsWith: '/blobServices/default/containers/incoming/'
  isSubjectCaseSensitive: false
  enableAdvancedFilteringOnArrays: true
}

// Events older than a day are left to the sweep rather than retried further.
var retryPolicy = {
  maxDeliveryAttempts: 30
  eventTimeToLiveInMinutes: 1440
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (delivery != 'None') {
  name: topicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${eventsIdentityId}': {}
    }
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource toQueue 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (delivery == 'StorageQueue') {
  parent: topic
  name: 'incoming-to-queue'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: incomingFilter
    retryPolicy: retryPolicy
    deliveryWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: eventsIdentityId
      }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: storage.id
          queueName: queueName
          // Seven days in the queue; the function drains it in seconds, so this only matters in an outage.
          queueMessageTimeToLiveInSeconds: 604800
        }
      }
    }
  }
}

resource toFunction 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (delivery == 'AzureFunction') {
  parent: topic
  name: 'incoming-to-function'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: incomingFilter
    retryPolicy: retryPolicy
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
  }
}

output topicName string = delivery != 'None' ? topic.name : ''
