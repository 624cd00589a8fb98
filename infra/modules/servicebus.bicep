// Work queues between the orchestrations and the GPU worker. Messages carry blob references, never image
// bytes, so Standard's 256 KB limit is ample; Premium buys isolation and predictable latency, not features
// this pipeline needs.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Service Bus namespace name.')
param name string

@description('Standard, or Premium for dedicated capacity.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Messaging units when Premium.')
@allowed([
  1
  2
  4
  8
  16
])
param premiumMessagingUnits int = 1

var isPremium = skuName == 'Premium'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: isPremium ? premiumMessagingUnits : null
  }
  properties: {
    // Entra ID only: no SAS rules work against this namespace.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    zoneRedundant: isPremium
  }
}

// One message per chunk: references to up to a few hundred images of one batch (or one image from the upload
// trigger). The worker holds a message while it downloads, decodes, labels and writes the whole chunk, so the
// lock is the longest Service Bus allows and the worker renews it for slow chunks. Ten deliveries ride out
// worker restarts and scale-in; a chunk that still fails goes to the dead-letter queue. Duplicate detection
// drops re-sent chunks (MessageId is a hash of the request) inside the window; the idempotent label ledger
// covers anything older.
resource labelRequests 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'label-requests'
  properties: {
    lockDuration: 'PT5M'
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P7D'
    requiresSession: false
    enableBatchedOperations: true
    maxSizeInMegabytes: 5120
  }
}

// One message per retraining run. Training outlives any lock, so the worker renews it and checkpoints; three
// deliveries are enough because a resumed run continues from its last checkpoint.
resource trainJobs 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'train-jobs'
  properties: {
    lockDuration: 'PT5M'
    maxDeliveryCount: 3
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P7D'
    requiresSession: false
    enableBatchedOperations: true
    maxSizeInMegabytes: 1024
  }
}

output id string = namespace.id
output name string = namespace.name
// serviceBusEndpoint is https://<host>:443/; the host alone keeps sovereign clouds right.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
output labelRequestsQueueName string = labelRequests.name
output trainJobsQueueName string = trainJobs.name
