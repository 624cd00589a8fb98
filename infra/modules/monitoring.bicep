// Logs and telemetry for both hosts: one Log Analytics workspace, one workspace-based Application Insights.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Log Analytics workspace name.')
param workspaceName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Days of log retention in the workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      // Queries must go through Azure RBAC on the workspace, not through workspace keys.
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Both hosts are given APPLICATIONINSIGHTS_AUTHENTICATION_STRING and the Monitoring Metrics Publisher role,
    // so they can send with Entra ID. Key ingestion stays on until both exporters are confirmed to use it
    // (Functions worker telemetry and the worker's Azure Monitor exporter need the credential wired in
    // code); turning it off earlier would drop their telemetry without an error.
    DisableLocalAuth: false
  }
}

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output applicationInsightsId string = applicationInsights.id
output applicationInsightsName string = applicationInsights.name
// An ingestion address plus the component's public instrumentation key; it grants no read access.
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
