namespace Samsa.Broker.Topics;

/// <summary>
/// Kafka's <c>.lock</c>: the broker holds an exclusive lock on a file in its data directory for
/// its whole life, so a second broker started on the same directory refuses to start instead of
/// serving (and corrupting) the same logs. The lock is the operating system's (flock on Unix, a
/// share-none handle on Windows): it goes away with the process, so a broker killed with
/// SIGKILL leaves a stale file but no stale lock.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = ".lock";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    public static DataDirectoryLock Acquire(string directory)
    {
        string full = Path.GetFullPath(directory);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Storage.StorageException($"{full}: cannot create the data directory: {e.Message}", e);
        }
        string path = Path.Combine(directory, FileName);
        try
        {
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new Storage.StorageException($"{full}: the data directory cannot be written: {e.Message}", e);
        }
        catch (IOException e) when (!CanWrite(directory))
        {
            throw new Storage.StorageException($"{full}: the data directory cannot be written: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data directory {Path.GetFullPath(directory)} is in use by another broker (it holds {path}). Stop it, or give this broker its own log.dirs.", e);
        }
    }

    private static bool CanWrite(string directory)
    {
        try
        {
            using var probe = File.Create(Path.Combine(directory, ".write-probe"), 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose() => _file.Dispose();
}
