namespace Samsa.Storage.Tests;

/// <summary>A fresh partition directory per test, deleted afterwards.</summary>
public abstract class LogDirectoryTest : IDisposable
{
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), "samsa-test-log-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (Directory.Exists(Dir))
            Directory.Delete(Dir, recursive: true);
    }
}
