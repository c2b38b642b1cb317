using Samsa.Protocol;

namespace Samsa.Client.Errors;

public sealed class TopicExistsException(string message) : KafkaException(ErrorCode.TopicAlreadyExists, message);

public sealed class UnknownTopicException(string message) : KafkaException(ErrorCode.UnknownTopicOrPartition, message);

public sealed class InvalidPartitionsException(string message) : KafkaException(ErrorCode.InvalidPartitions, message);

/// <summary>The group has active members; Kafka only lets you change or delete an empty group's offsets.</summary>
public sealed class GroupNotEmptyException(string message) : KafkaException(ErrorCode.NonEmptyGroup, message);

public sealed class GroupNotFoundException(string message) : KafkaException(ErrorCode.GroupIdNotFound, message);
