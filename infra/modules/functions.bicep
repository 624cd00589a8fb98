// The Function App on the Flex Consumption plan (FC1): triggers, orchestrations and the HTTP API. Every
// connection is identity-based through the one user-assigned identity; there is no key anywhere in its
// settings, and the platform's own system-assigned identity stays off.

@description('Azure region.')
param location string

@description('Tags applied to every resource; the app adds its azd service tag.')
param tags object

@description('Function App name.')
param name string

@description('App Service plan name.')
param planName string

@description('Resource id of the Function App\'s user-assigned identity.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account name (AzureWebJobsStorage and the Durable Functions task hub).')
param storageAccountName string

@description('Blob service endpoint of the storage account.')
param blobEndpoint string

@description('Queue service endpoint of the storage account.')
param queueEndpoint string

@description('Blob container URL the Flex Consumption plan deploys the package from.')
param deploymentContainerUrl string

@description('Fully qualified Service Bus namespace (host name).')
param serviceBusFullyQualifiedNamespace string

@description('Service Bus queue of label requests (ingest and LabelBatch send; the worker receives).')
param labelQueueName string

@description('Service Bus queue of train jobs (Retrain sends; the worker receives).')
param trainQueueName string

@description('Application Insights connection string (ingestion address, not a secret).')
param applicationInsightsConnectionString string

@description('.NET isolated worker runtime version.')
param dotnetVersion string = '10.0'

@description('NCRONTAB schedule of the sweep that ingests uploads the trigger missed.')
param ingestSweepSchedule string = '0 */10 * * * *'

@description('NCRONTAB schedule of scheduled retraining (default: Sundays 03:00 UTC).')
param retrainSchedule string = '0 0 3 * * 0'

@description('Data set under training/ that scheduled retraining learns from; empty turns the schedule off.')
param retrainDataset string = ''

@description('Upper bound on Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: dotnetVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        // Host storage and the Durable Functions task hub (blobs, queues, tables of the same account).
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // The pipeline's own connection to the data containers and the upload-events queue.
        {
          name: 'Storage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'Storage__queueServiceUri'
          value: queueEndpoint
        }
        {
          name: 'Storage__credential'
          value: 'managedidentity'
        }
        {
          name: 'Storage__clientId'
          value: identityClientId
        }
        {
          name: 'ServiceBus__fullyQualifiedNamespace'
          value: serviceBusFullyQualifiedNamespace
        }
        {
          name: 'ServiceBus__credential'
          value: 'managedidentity'
        }
        {
          name: 'ServiceBus__clientId'
          value: identityClientId
        }
        {
          name: 'Messaging__Backend'
          value: 'servicebus'
        }
        {
          name: 'Messaging__LabelQueue'
          value: labelQueueName
        }
        {
          name: 'Messaging__TrainQueue'
          value: trainQueueName
        }
        // Both timers fail to index without their schedules.
        {
          name: 'IngestSweepSchedule'
          value: ingestSweepSchedule
        }
        {
          name: 'RetrainSchedule'
          value: retrainSchedule
        }
        {
          name: 'Retrain__Dataset'
          value: retrainDataset
        }
        // The host buffers a request body before the worker sees it (default limit 100 MB). The largest body the API
        // takes is a labeling-tool export to import (RequestBodies.MaxExportBytes, 16 MiB); the rest are a few options.
        {
          name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT'
          value: '17825792'
        }
        // DefaultAzureCredential in app code picks the user-assigned identity through this.
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD;ClientId=${identityClientId}'
        }
      ]
    }
  }
}

// Publishing goes through Entra ID (azd and the deploy workflow); basic-auth publishing credentials are off.
resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
