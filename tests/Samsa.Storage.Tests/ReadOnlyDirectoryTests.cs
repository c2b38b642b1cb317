using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// A partition directory that no longer takes new files. The suite runs as root on CI, where
/// permission bits do not stop anything, so the directory is made immutable (chattr +i), which
/// stops root too; as another user, permission bits do.
/// </summary>
public sealed class ReadOnlyDirectoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-ro-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SetReadOnly(false);
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private void SetReadOnly(bool readOnly)
    {
        if (!Directory.Exists(_dir))
            return;
        if (Environment.UserName != "root" && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir, readOnly ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }
        using var chattr = Process.Start(new ProcessStartInfo("chattr", [readOnly ? "+i" : "-i", _dir]) { RedirectStandardError = true })!;
        string error = chattr.StandardError.ReadToEnd();
        chattr.WaitForExit();
        Assert.True(chattr.ExitCode == 0, $"chattr failed: {error}");
    }

    [Fact]
    public void A_roll_into_a_read_only_directory_fails_naming_the_file_and_loses_nothing()
    {
        using var log = PartitionLog.Open(_dir, new LogConfig { SegmentBytes = 200 }, NullLogger.Instance);
        log.Append(Batch(3));
        log.Append(Batch(3));
        SetReadOnly(true);
        var error = Assert.Throws<StorageException>(() => log.Append(Batch(3)));
        Assert.Contains(Path.Combine(_dir, "00000000000000000006.log"), error.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", error.Message, StringComparison.Ordinal);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), AllOffsets(log));

        SetReadOnly(false);
        Assert.Equal(6, log.Append(Batch(3)));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), AllOffsets(log));
    }
}
