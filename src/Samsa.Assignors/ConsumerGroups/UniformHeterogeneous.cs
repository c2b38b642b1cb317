namespace Samsa.Assignors;

/// <summary>
/// The uniform assignor for groups whose members subscribe to different topics. Like Kafka's
/// heterogeneous builder it keeps every current partition a member still subscribes to and then
/// balances topic by topic, moving a topic's partitions between its subscribers until no move of
/// one partition to a subscriber with two or more fewer partitions in total is left; unlike
/// Kafka's it has no iteration cap, so it always gets there.
/// <para>
/// Balancing one topic holds every subscriber's partitions of other topics fixed and levels the
/// totals: with <c>other[m]</c> a subscriber's partitions of other topics, each ends with
/// <c>max(0, L - other[m])</c> of this topic for the highest level L the topic's partition count
/// reaches, and the remainder goes one each to subscribers at level L, first to those that came in
/// with more than that. A topic that is already level keeps every partition where it is; one that
/// is not is laid out at the levelled counts, which lowers the sum of squared member totals, so
/// the rounds over the topics end.
/// </para>
/// <para>
/// A pass that changes counts lays the topic out again from the input's owners, not from the
/// previous pass: each subscriber keeps as many of the partitions it came in with as its new count
/// allows, so however many passes a topic takes, no member gives up a partition of a topic in
/// which it gains another.
/// </para>
/// </summary>
internal sealed class UniformHeterogeneous
{
    private readonly GroupModel _model;
    private readonly int[][] _subscribers;
    private readonly int[] _loads;
    private readonly int[][] _original;

    // Per-topic scratch, indexed by member and left zeroed between topics.
    private readonly int[] _held;
    private readonly int[] _target;
    private readonly int[] _had;
    private readonly int[] _others;

    public UniformHeterogeneous(GroupModel model)
    {
        _model = model;
        _subscribers = model.Subscribers();
        _loads = model.Loads;
        _held = new int[model.MemberCount];
        _target = new int[model.MemberCount];
        _had = new int[model.MemberCount];
        _original = Array.ConvertAll(model.Owners, owners => (int[])owners.Clone());
        int widest = 0;
        foreach (int[] s in _subscribers)
            widest = Math.Max(widest, s.Length);
        _others = new int[widest];
    }

    public void Assign()
    {
        // Like Kafka's loop: round the topics until a whole round has laid nothing out. Checking
        // a topic that is level costs a scan of its partitions and subscribers, which is cheaper
        // than tracking which topics a changed member's total could have unlevelled.
        int[] order = InitialOrder();
        for (int i = 0, quiet = 0; quiet < order.Length; i = (i + 1) % order.Length)
            quiet = Level(order[i]) ? 0 : quiet + 1;
    }

    /// <summary>
    /// Kafka's order: most partitions per subscriber first (the hardest to level), then fewer
    /// subscribers, then topic id. The order only picks which level assignment is reached first.
    /// </summary>
    private int[] InitialOrder()
    {
        int[] order = new int[_subscribers.Length];
        for (int t = 0; t < order.Length; t++)
            order[t] = t;
        int[][] owners = _model.Owners;
        Array.Sort(order, (a, b) =>
        {
            long byRatio = (long)owners[b].Length * _subscribers[a].Length - (long)owners[a].Length * _subscribers[b].Length;
            if (byRatio != 0)
                return byRatio < 0 ? -1 : 1;
            int bySubscribers = _subscribers[a].Length.CompareTo(_subscribers[b].Length);
            return bySubscribers != 0 ? bySubscribers : a.CompareTo(b);
        });
        return order;
    }

    /// <summary>Levels topic <paramref name="t"/>; true when that changed anything.</summary>
    private bool Level(int t)
    {
        int[] owners = _model.Owners[t], original = _original[t], subscribers = _subscribers[t];
        bool unassigned = false;
        for (int p = 0; p < owners.Length; p++)
        {
            if (owners[p] >= 0)
                _held[owners[p]]++;
            else
                unassigned = true;
            if (original[p] >= 0)
                _had[original[p]]++;
        }
        if (!unassigned && IsLevel(subscribers))
        {
            // Already a levelling: laying it out again could only trade a "+1" between two
            // members, which moves partitions without improving anything (and could go round).
            foreach (int m in subscribers)
                _held[m] = _had[m] = 0;
            return false;
        }

        int level = WaterLevel(subscribers, owners.Length);
        long baseTotal = 0;
        foreach (int m in subscribers)
        {
            _target[m] = Math.Max(0, level - Other(m));
            baseTotal += _target[m];
        }
        int extra = (int)(owners.Length - baseTotal);
        // Subscribers at the level that came in with more than their base keep one of those
        // instead of giving it up; then the rest of the remainder by member order.
        for (int i = 0; i < subscribers.Length && extra > 0; i++)
        {
            int m = subscribers[i];
            if (Other(m) <= level && _had[m] > _target[m])
            {
                _target[m]++;
                extra--;
            }
        }
        for (int i = 0; i < subscribers.Length && extra > 0; i++)
        {
            int m = subscribers[i];
            if (Other(m) <= level && _target[m] == Math.Max(0, level - Other(m)))
            {
                _target[m]++;
                extra--;
            }
        }

        // Not level, so the levelled counts differ from the held ones somewhere.
        Layout(owners, original, subscribers);
        foreach (int m in subscribers)
            _held[m] = _target[m] = _had[m] = 0;
        return true;
    }

    private int Other(int m) => _loads[m] - _held[m];

    /// <summary>No subscriber holding a partition of the topic has two or more more in total than another subscriber.</summary>
    private bool IsLevel(int[] subscribers)
    {
        int least = int.MaxValue, most = int.MinValue;
        foreach (int m in subscribers)
        {
            least = Math.Min(least, _loads[m]);
            if (_held[m] > 0)
                most = Math.Max(most, _loads[m]);
        }
        return most <= least + 1;
    }

    /// <summary>The highest L with sum over subscribers of max(0, L - other) at most <paramref name="partitions"/>.</summary>
    private int WaterLevel(int[] subscribers, int partitions)
    {
        int n = subscribers.Length;
        for (int i = 0; i < n; i++)
            _others[i] = Other(subscribers[i]);
        Array.Sort(_others, 0, n);
        // With the k lowest below the level, sum = k * L - (their sum); the first k whose level
        // does not pass the next member's total is the one.
        long below = 0;
        for (int k = 1; k <= n; k++)
        {
            below += _others[k - 1];
            long level = (partitions + below) / k;
            if (k == n || level <= _others[k])
                return (int)level;
        }
        throw new InvalidOperationException("A topic without subscribers is never levelled.");
    }

    private void Layout(int[] owners, int[] original, int[] subscribers)
    {
        foreach (int m in subscribers)
        {
            _loads[m] += _target[m] - _held[m];
            _held[m] = 0;
        }
        // Input owners keep their lowest partitions up to their target; the rest fill the
        // subscribers below target in member order, lowest partitions first.
        for (int p = 0; p < owners.Length; p++)
        {
            int m = original[p];
            if (m >= 0 && _held[m] < _target[m])
            {
                owners[p] = m;
                _held[m]++;
            }
            else
            {
                owners[p] = -1;
            }
        }
        int next = 0;
        for (int p = 0; p < owners.Length; p++)
        {
            if (owners[p] >= 0)
                continue;
            while (_held[subscribers[next]] >= _target[subscribers[next]])
                next++;
            owners[p] = subscribers[next];
            _held[subscribers[next]]++;
        }
    }
}
