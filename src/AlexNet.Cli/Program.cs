using AlexNet.Cli;

return await CliApplication.RunAsync(args);
