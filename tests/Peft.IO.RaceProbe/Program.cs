// A helper process of tests/Peft.Tests (IO/AtomicFileRaceTests): two of these race AtomicFile.TryCreate on the same
// names. Usage: Peft.IO.RaceProbe <folder> <names> <me: 0 or 1>
//   <folder>/barrier: 16 bytes (created by the test), both processes' progress, shared through a memory-mapped file
//   <folder>/race-<i>: the names raced for; each process writes its own content (ContentOf)
// Before name i each process announces i and waits until the other has announced it too, so both call TryCreate on
// the same name at about the same moment. Prints "won <i>" for every name this process created; exit 0, or 2 when
// the other process did not keep up (it died).
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Text;
using Peft.IO;

if (args.Length != 3 || !int.TryParse(args[1], out int names) || args[2] is not ("0" or "1"))
{
    Console.Error.WriteLine("usage: Peft.IO.RaceProbe <folder> <names> <0|1>");
    return 1;
}
string folder = args[0];
int me = args[2] == "0" ? 0 : 1, other = 1 - me;
var patience = TimeSpan.FromMinutes(2);

using var barrier = MemoryMappedFile.CreateFromFile(Path.Combine(folder, "barrier"), FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
using var progress = barrier.CreateViewAccessor(0, 16);
var output = new StringBuilder();
for (int i = 0; i < names; i++)
{
    progress.Write(me * 8, (long)i + 1);
    var waited = Stopwatch.StartNew();
    var spin = new SpinWait();
    while (progress.ReadInt64(other * 8) < i + 1)
    {
        if (waited.Elapsed > patience)
        {
            Console.Error.WriteLine($"process {other} did not reach name {i} in {patience}");
            return 2;
        }
        spin.SpinOnce(sleep1Threshold: -1);
    }
    if (AtomicFile.TryCreate(Path.Combine(folder, $"race-{i}"), ContentOf(me, i)))
        output.Append("won ").Append(i).Append('\n');
}
Console.Out.Write(output);
return 0;

// What process <me> writes for name <i>: a few kilobytes, so that writing the temporary file takes a moment.
static byte[] ContentOf(int me, int i) => Encoding.ASCII.GetBytes($"process {me}, name {i}\n" + new string((char)('a' + me), 8192));
