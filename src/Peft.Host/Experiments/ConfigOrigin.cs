namespace Peft.Host.Experiments;

/// <summary>Where an experiment setting came from; relative paths resolve against the file's folder only for <see cref="File"/>.</summary>
public enum ConfigOrigin { File, Environment, CommandLine }
