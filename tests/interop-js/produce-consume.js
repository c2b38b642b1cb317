// kafkajs 2.2.4 against a Samsa broker: produce, then consume in a group and commit.
// Usage: node produce-consume.js host:port topic group count
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic, groupId, countText] = process.argv.slice(2);
  const count = Number(countText);
  const kafka = new Kafka({ clientId: 'samsa-js', brokers: [broker], logLevel: logLevel.ERROR });

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: 'k', value: `js-${i}` })) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${seen.length} messages`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (seen.length === count) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect(); // commits the consumed offsets and leaves the group

  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  console.log(seen.join(','));
  console.log(offsets[0].partitions[0].offset);
}

main().catch(e => { console.error(e); process.exit(1); });
