namespace Peft.Core.Tracking;

/// <summary>MLflow's run states (service.proto <c>RunStatus</c>: RUNNING 1, SCHEDULED 2, FINISHED 3, FAILED 4, KILLED 5).</summary>
public enum RunStatus { Running = 1, Scheduled = 2, Finished = 3, Failed = 4, Killed = 5 }
