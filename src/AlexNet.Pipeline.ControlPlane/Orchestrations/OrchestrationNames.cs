namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Names of the orchestrators and activities as the durable engines know them: the Functions app names its trigger
/// functions exactly so, the local engine registers them under these names.
/// </summary>
public static class OrchestrationNames
{
    public const string LabelBatch = "LabelBatch";
    public const string LabelChunkGroup = "LabelChunkGroup";
    public const string Retrain = "Retrain";
    public const string WaitForTrainDone = "WaitForTrainDone";

    public const string ListAndChunk = "ListAndChunk";
    public const string SendChunks = "SendChunks";
    public const string CheckChunks = "CheckChunks";
    public const string CountDoneChunks = "CountDoneChunks";
    public const string WriteBatchReport = "WriteBatchReport";

    public const string Fingerprint = "Fingerprint";
    public const string SubmitTrainJob = "SubmitTrainJob";
    public const string CheckTrainDone = "CheckTrainDone";
    public const string Promote = "Promote";
    public const string WriteRetrainReport = "WriteRetrainReport";
    public const string Rollback = "Rollback";
}
