// The GPU worker: a Container Apps environment with a GPU workload profile and the container app that
// receives label requests and training jobs from Service Bus. It scales from zero on queue backlog (KEDA),
// authenticating to Service Bus with its user-assigned identity, and pulls its image the same way.

@description('Azure region.')
param location string

@description('Tags applied to every resource; the app adds its azd service tag.')
param tags object

@description('Container Apps environment name.')
param environmentName string

@description('Container app name.')
param name string

@description('GPU workload profile type. Consumption-GPU-* are serverless (per-second billing, scale to zero); NC*-A100 are dedicated nodes with 1, 2 or 4 A100s, where 2 GPUs let the model place one tower on each.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'NC24-A100'
  'NC48-A100'
  'NC96-A100'
])
param gpuProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Worker image (set by azd deploy). Empty until the first deploy: a public placeholder stands in.')
param imageName string = ''

@description('Resource id of the worker\'s user-assigned identity.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Login server of the registry the worker image comes from.')
param registryLoginServer string

@description('Service Bus namespace name (the KEDA scaler wants the name, not the host).')
param serviceBusNamespaceName string

@description('Fully qualified Service Bus namespace (host name).')
param serviceBusFullyQualifiedNamespace string

@description('Queue of label requests.')
param labelQueueName string

@description('Queue of training jobs.')
param trainQueueName string

@description('Blob service endpoint of the storage account.')
param blobEndpoint string

@description('Queue service endpoint of the storage account.')
param queueEndpoint string

@description('Log Analytics workspace resource id (environment logs go there through diagnostic settings).')
param logAnalyticsWorkspaceId string

@description('Application Insights connection string (ingestion address, not a secret).')
param applicationInsightsConnectionString string

@description('Most replicas, each holding one GPU profile instance.')
@minValue(1)
@maxValue(50)
param maxReplicas int = 4

@description('Label-request backlog per replica before KEDA adds another. A message is one chunk of up to a few hundred images (or one image from the upload trigger); about what a replica clears while another one starts.')
@minValue(1)
param messagesPerReplica int = 500

@description('Images per forward batch.')
param batchSize int = 256

@description('Seconds a replica being scaled in gets to finish and settle its current batch.')
@minValue(30)
@maxValue(600)
param terminationGracePeriodSeconds int = 240

// Container sizes per profile. Serverless GPU replicas take the whole profile; dedicated nodes keep some
// headroom for the platform's own pods.
var gpuProfiles = {
  'Consumption-GPU-NC8as-T4': {
    cpu: '8.0'
    memory: '56Gi'
    dedicated: false
  }
  'Consumption-GPU-NC24-A100': {
    cpu: '24.0'
    memory: '220Gi'
    dedicated: false
  }
  'NC24-A100': {
    cpu: '22.0'
    memory: '200Gi'
    dedicated: true
  }
  'NC48-A100': {
    cpu: '44.0'
    memory: '400Gi'
    dedicated: true
  }
  'NC96-A100': {
    cpu: '88.0'
    memory: '800Gi'
    dedicated: true
  }
}
var gpuProfile = gpuProfiles[gpuProfileType]
var gpuWorkloadProfileName = 'gpu'
var workerPort = 8080
var placeholderImage = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through diagnostic settings below, so the environment needs no workspace shared key.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      gpuProfile.dedicated
        ? {
            name: gpuWorkloadProfileName
            workloadProfileType: gpuProfileType
            minimumCount: 0
            maximumCount: maxReplicas
          }
        : {
            name: gpuWorkloadProfileName
            workloadProfileType: gpuProfileType
          }
    ]
  }
}

resource environmentDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource worker 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'worker' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: gpuWorkloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      // No ingress: the worker pulls work from Service Bus; probes reach the container port directly.
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'worker'
          image: empty(imageName) ? placeholderImage : imageName
          resources: {
            cpu: json(gpuProfile.cpu)
            memory: gpuProfile.memory
          }
          env: [
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
              name: 'AZURE_CLIENT_ID'
              value: identityClientId
            }
            {
              name: 'Messaging__LabelQueue'
              value: labelQueueName
            }
            {
              name: 'Messaging__TrainQueue'
              value: trainQueueName
            }
            {
              name: 'Worker__BatchSize'
              value: string(batchSize)
            }
            {
              name: 'Worker__Device'
              value: 'auto'
            }
            {
              // Blob index tags (top-1 label, model version) on every labeled upload, for tag queries downstream.
              name: 'Worker__TagSourceImages'
              value: 'true'
            }
            {
              name: 'ASPNETCORE_HTTP_PORTS'
              value: string(workerPort)
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
          probes: [
            // Loading the model onto the GPU takes a while: the startup probe holds the others back.
            {
              type: 'Startup'
              httpGet: {
                path: '/health/live'
                port: workerPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 10
              periodSeconds: 10
              failureThreshold: 10
              timeoutSeconds: 5
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/health/live'
                port: workerPort
                scheme: 'HTTP'
              }
              periodSeconds: 30
              failureThreshold: 3
              timeoutSeconds: 5
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/health/ready'
                port: workerPort
                scheme: 'HTTP'
              }
              periodSeconds: 10
              failureThreshold: 3
              timeoutSeconds: 5
            }
          ]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxReplicas
        pollingInterval: 30
        // A GPU replica is slow to start and expensive to keep: scale in only after five idle minutes.
        cooldownPeriod: 300
        rules: [
          {
            name: 'label-requests-backlog'
            custom: {
              type: 'azure-servicebus'
              identity: identityId
              metadata: {
                namespace: serviceBusNamespaceName
                queueName: labelQueueName
                messageCount: string(messagesPerReplica)
                activationMessageCount: '0'
              }
            }
          }
          // Training jobs also wake the worker from zero; one job is enough for one replica.
          {
            name: 'train-jobs-backlog'
            custom: {
              type: 'azure-servicebus'
              identity: identityId
              metadata: {
                namespace: serviceBusNamespaceName
                queueName: trainQueueName
                messageCount: '1'
                activationMessageCount: '0'
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    environmentDiagnostics
  ]
}

output environmentId string = environment.id
output environmentName string = environment.name
output name string = worker.name
output id string = worker.id
