using AlexNet.Pipeline.Worker;

// The GPU worker: label requests and train jobs from the queues, health on :8080, OpenTelemetry over OTLP.
var app = WorkerApplication.Create(args);
await app.RunAsync();
