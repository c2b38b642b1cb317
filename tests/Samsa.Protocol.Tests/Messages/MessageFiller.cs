using System.Collections;
using System.Reflection;
using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>Fills a generated message with random values through reflection, honouring nullability annotations.</summary>
internal sealed class MessageFiller(int seed)
{
    private readonly Random _random = new(seed);
    private readonly NullabilityInfoContext _nullability = new();

    public object Fill(Type type, int depth = 0)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!p.CanWrite)
                continue;
            if (p.Name == nameof(IMessage.Write))
                continue;
            if (p.PropertyType == typeof(List<RawTaggedField>))
            {
                if (_random.Next(4) == 0)
                    p.SetValue(instance, new List<RawTaggedField> { new(1000 + _random.Next(10), RandomBytes(3)), new(2000, RandomBytes(1)) });
                continue;
            }
            bool nullable = _nullability.Create(p).WriteState == NullabilityState.Nullable;
            p.SetValue(instance, Value(p.PropertyType, nullable, depth));
        }
        return instance;
    }

    private byte[] RandomBytes(int max)
    {
        var bytes = new byte[_random.Next(max + 1)];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string RandomString()
    {
        const string alphabet = "abcXYZ-_.019 é한";
        var chars = new char[_random.Next(8)];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = alphabet[_random.Next(alphabet.Length)];
        return new string(chars);
    }

    private object? Value(Type type, bool nullable, int depth)
    {
        if (nullable && _random.Next(5) == 0)
            return null;
        if (type == typeof(bool)) return _random.Next(2) == 1;
        if (type == typeof(sbyte)) return (sbyte)_random.Next(-128, 128);
        if (type == typeof(short)) return (short)_random.Next(-32768, 32768);
        if (type == typeof(ushort)) return (ushort)_random.Next(0, 65536);
        if (type == typeof(int)) return _random.Next(int.MinValue, int.MaxValue);
        if (type == typeof(uint)) return (uint)_random.NextInt64(0, uint.MaxValue);
        if (type == typeof(long)) return _random.NextInt64(long.MinValue, long.MaxValue);
        if (type == typeof(double)) return _random.NextDouble() * 1e6;
        if (type == typeof(Guid)) return Guid.NewGuid();
        if (type == typeof(ErrorCode)) return (ErrorCode)_random.Next(0, 120);
        if (type == typeof(string)) return RandomString();
        if (type == typeof(byte[])) return RandomBytes(16);
        if (type == typeof(ReadOnlyMemory<byte>?) || type == typeof(ReadOnlyMemory<byte>))
            return nullable || _random.Next(5) != 0 ? new ReadOnlyMemory<byte>(RandomBytes(64)) : null;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var element = type.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(type)!;
            int count = depth > 3 ? 0 : _random.Next(4);
            for (int i = 0; i < count; i++)
                list.Add(Value(element, nullable: false, depth + 1));
            return list;
        }
        if (type.IsClass)
            return Fill(type, depth + 1);
        throw new NotSupportedException($"No random value for {type}");
    }
}
