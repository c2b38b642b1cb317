using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// A partition directory that no longer takes new files. The suite runs as root on CI, where
/// permission bits do not stop anything, so the directory is made immutable (chattr +i), which
/// stops root too; as another user, permission bits do.
/// </summary>
public sealed class ReadOnlyDirectoryTests : LogDirectoryTest
{
    protected override void Dispose(bool disposing)
    {
        SetReadOnly(false);
        base.Dispose(disposing);
    }

    private void SetReadOnly(bool readOnly)
    {
        if (!Directory.Exists(Dir))
            return;
        if (Environment.UserName != "root" && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Dir, readOnly ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }
        using var chattr = Process.Start(new ProcessStartInfo("chattr", [readOnly ? "+i" : "-i", Dir]) { RedirectStandardError = true })!;
        string error = chattr.StandardError.ReadToEnd();
        chattr.WaitForExit();
        Assert.True(chattr.ExitCode == 0, $"chattr failed: {error}");
    }

    [Fact]
    public void A_roll_into_a_read_onlyDirectory_fails_naming_the_file_and_loses_nothing()
    {
        using var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 200 }, NullLogger.Instance);
        log.Append(Batch(3));
        log.Append(Batch(3));
        SetReadOnly(true);
        var error = Assert.Throws<StorageException>(() => log.Append(Batch(3)));
        Assert.Contains(Path.Combine(Dir, "00000000000000000006.log"), error.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", error.Message, StringComparison.Ordinal);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), AllOffsets(log));

        SetReadOnly(false);
        Assert.Equal(6, log.Append(Batch(3)));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), AllOffsets(log));
    }
}
