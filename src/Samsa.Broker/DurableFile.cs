namespace Samsa.Broker;

/// <summary>
/// The one way the broker rewrites a small state file (SCRAM credentials, ACLs, dynamic configs,
/// a topic's id): written aside, fsynced, then renamed over the old one, so a crash leaves either
/// the old file or the new one, never a torn one.
/// </summary>
internal static class DurableFile
{
    public static void Replace(string path, IEnumerable<string> lines)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream))
        {
            foreach (var line in lines)
                writer.WriteLine(line);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
