using System.Diagnostics;

namespace Samsa.Cli.Commands;

/// <summary>
/// kafka-producer-perf-test's bookkeeping: totals, a window printed every 5 s, and latencies
/// sampled down to at most 500,000 for the percentiles (whole milliseconds, as Kafka prints them).
/// Fed from the producer's delivery callbacks, hence the lock.
/// </summary>
internal sealed class ProduceStats
{
    private const double WindowSeconds = 5;
    private readonly Lock _gate = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly long _sampling;
    private readonly int[] _latencies;
    private int _sampled;
    private long _iteration, _count, _bytes, _maxLatency;
    private double _totalLatency;
    private long _windowStart, _windowCount, _windowBytes, _windowMax;
    private double _windowTotal;

    public ProduceStats(long records)
    {
        _sampling = records / Math.Min(records, 500_000);
        _latencies = new int[(int)(records / _sampling) + 1];
        _windowStart = _start;
    }

    public void Record(long sentTimestamp, int bytes, LiveLine? live)
    {
        long now = Stopwatch.GetTimestamp();
        double latency = Stopwatch.GetElapsedTime(sentTimestamp, now).TotalMilliseconds;
        string? window = null;
        lock (_gate)
        {
            _count++;
            _bytes += bytes;
            _totalLatency += latency;
            _maxLatency = Math.Max(_maxLatency, (long)latency);
            _windowCount++;
            _windowBytes += bytes;
            _windowTotal += latency;
            _windowMax = Math.Max(_windowMax, (long)latency);
            if (_iteration++ % _sampling == 0 && _sampled < _latencies.Length)
                _latencies[_sampled++] = (int)latency;
            double elapsed = Stopwatch.GetElapsedTime(_windowStart, now).TotalSeconds;
            if (elapsed >= WindowSeconds)
            {
                window = $"{_windowCount} records sent, {PerfCommand.F(_windowCount / elapsed, 1)} records/sec ({PerfCommand.F(_windowBytes / elapsed / (1024 * 1024), 2)} MB/sec), " +
                    $"{PerfCommand.F(_windowTotal / _windowCount, 1)} ms avg latency, {PerfCommand.F(_windowMax, 1)} ms max latency.";
                _windowStart = now;
                _windowCount = _windowBytes = _windowMax = 0;
                _windowTotal = 0;
            }
        }
        if (window is not null)
            LiveLine.WriteLine(live, window);
    }

    public string Status()
    {
        lock (_gate)
        {
            double elapsed = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            return $"{_count:N0} acknowledged, {_count / elapsed:N0} records/sec, {(_count == 0 ? 0 : _totalLatency / _count):N1} ms avg latency";
        }
    }

    /// <summary>The summary line, character for character as kafka-producer-perf-test prints it.</summary>
    public string Total()
    {
        lock (_gate)
        {
            double elapsed = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            Array.Sort(_latencies, 0, _sampled);
            int At(double p) => _sampled == 0 ? 0 : _latencies[(int)(p * _sampled)];
            return $"{_count} records sent, {PerfCommand.F(_count / elapsed, 1)} records/sec ({PerfCommand.F(_bytes / elapsed / (1024 * 1024), 2)} MB/sec), " +
                $"{PerfCommand.F(_count == 0 ? 0 : _totalLatency / _count, 2)} ms avg latency, {PerfCommand.F(_maxLatency, 2)} ms max latency, " +
                $"{At(0.5)} ms 50th, {At(0.95)} ms 95th, {At(0.99)} ms 99th, {At(0.999)} ms 99.9th.";
        }
    }
}

/// <summary>
/// A status line on stderr, redrawn in place four times a second, only when stderr is a terminal
/// (a pipe or a file gets Kafka's lines alone). Lines for stdout go through <see cref="WriteLine"/>
/// so they never land on top of the status line.
/// </summary>
internal sealed class LiveLine : IDisposable
{
    private static readonly Lock Gate = new();
    private readonly Func<string> _status;
    private readonly Timer _timer;
    private bool _stopped;

    private LiveLine(Func<string> status)
    {
        _status = status;
        _timer = new Timer(_ => Draw(), null, 250, 250);
    }

    public static LiveLine? Start(Func<string> status) => Console.IsErrorRedirected ? null : new LiveLine(status);

    public static void WriteLine(LiveLine? live, string line)
    {
        lock (Gate)
        {
            if (live is not null && !Console.IsOutputRedirected)
                Console.Error.Write("\r\u001b[2K");
            Console.WriteLine(line);
        }
    }

    private void Draw()
    {
        string text = _status();
        lock (Gate)
        {
            if (!_stopped)
                Console.Error.Write($"\r\u001b[2K{text}");
        }
    }

    public void Stop()
    {
        _timer.Dispose();
        lock (Gate)
        {
            if (!_stopped)
                Console.Error.Write("\r\u001b[2K");
            _stopped = true;
        }
    }

    public void Dispose() => Stop();
}
