//! The sink's output topics, made sure of before a run starts: a missing one is created (with the input's partition count), so that a broker without topic auto-creation never halts a show halfway.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::{TransportError, base_config, kafka};

/// Which of `topics` the cluster at `brokers` has not got.
fn missing(
    brokers: &str,
    topics: &[&str],
    timeout: Duration,
) -> Result<Vec<String>, TransportError> {
    let consumer: BaseConsumer = base_config(brokers)
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    let md = consumer
        .fetch_metadata(None, timeout)
        .map_err(kafka(format!("reading the topics of {brokers}")))?;
    let has = |t: &str| {
        md.topics()
            .iter()
            .any(|m| m.name() == t && m.error().is_none() && !m.partitions().is_empty())
    };
    Ok(topics
        .iter()
        .filter(|t| !has(t))
        .map(|t| t.to_string())
        .collect())
}

/// Creates the topics of `topics` that `brokers` has not got, with `partitions` partitions and
/// the broker's default replication, and says so, one line each. A topic the broker will not
/// create is an error before anything is read.
pub fn ensure_topics(
    brokers: &str,
    topics: &[&str],
    partitions: i32,
    timeout: Duration,
) -> Result<(), TransportError> {
    let absent = missing(brokers, topics, timeout)?;
    if absent.is_empty() {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = base_config(brokers)
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    let new: Vec<NewTopic> = absent
        .iter()
        .map(|t| NewTopic::new(t, partitions.max(1), TopicReplication::Fixed(-1)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(timeout));
    let results = futures::executor::block_on(admin.create_topics(&new, &opts)).map_err(kafka(
        format!("creating {} on {brokers}", absent.join(", ")),
    ))?;
    for r in results {
        match r {
            Ok(t) => eprintln!(
                "livesell: output topic {t} did not exist on {brokers}: created with {} partition(s)",
                partitions.max(1)
            ),
            // Another process made it meanwhile.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => {
                return Err(TransportError::Kafka {
                    what: format!(
                        "output topic {t} does not exist on {brokers} and cannot be created (create it first)"
                    ),
                    source: rdkafka::error::KafkaError::AdminOp(code),
                });
            }
        }
    }
    Ok(())
}
