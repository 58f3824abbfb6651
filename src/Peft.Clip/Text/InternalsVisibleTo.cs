using System.Runtime.CompilerServices;

// The tokenizer's Python-compatibility helpers are internal; the tests check them against Python fixtures.
[assembly: InternalsVisibleTo("Peft.Tests")]
