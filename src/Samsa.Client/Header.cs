namespace Samsa.Client;

/// <summary>A record header; <see cref="Value"/> is null when the producer sent a null value.</summary>
public sealed record Header(string Key, byte[]? Value);
