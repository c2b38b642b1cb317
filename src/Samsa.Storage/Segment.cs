using Microsoft.Win32.SafeHandles;

namespace Samsa.Storage;

/// <summary>One segment file. Writes go straight to the OS (no user-space buffer), so a process
/// crash loses nothing that was acknowledged; Flush is an fsync.</summary>
internal sealed class Segment : IDisposable
{
    private readonly SafeFileHandle _handle;
    private long _length;

    private Segment(string path, long baseOffset, SafeFileHandle handle)
    {
        Path = path;
        BaseOffset = baseOffset;
        _handle = handle;
        _length = RandomAccess.GetLength(handle);
    }

    public string Path { get; }

    public long BaseOffset { get; }

    public long Length => Volatile.Read(ref _length);

    public static Segment Open(string path, long baseOffset)
    {
        try
        {
            var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            return new Segment(path, baseOffset, handle);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorageException($"{path}: cannot open for writing ({e.Message}). Is the data directory read-only?", e);
        }
        catch (IOException e)
        {
            throw new StorageException($"{path}: cannot open: {e.Message}", e);
        }
    }

    public void Read(Span<byte> destination, long position)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[read..], position + read);
            if (n == 0)
                throw new StorageException($"{Path}: unexpected end of file at {position + read}.");
            read += n;
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        RandomAccess.Write(_handle, data, _length);
        Volatile.Write(ref _length, _length + data.Length);
    }

    public void Truncate(long length)
    {
        RandomAccess.SetLength(_handle, length);
        Volatile.Write(ref _length, length);
    }

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void Dispose() => _handle.Dispose();
}
