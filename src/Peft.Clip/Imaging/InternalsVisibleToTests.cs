using System.Runtime.CompilerServices;

// The resampling kernel is internal but worth testing directly (InternalsVisibleTo allows repeats).
[assembly: InternalsVisibleTo("Peft.Tests")]
