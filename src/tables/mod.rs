//! The format of `DIR/snapshots/`: every table's schema by name, the rows the engines gather, the batches of a snapshot, the two differential views, and where each file goes.

pub mod batches;
pub mod layout;
pub mod rows;
pub mod schema;
pub mod views;

/// The Arrow schema of any snapshot table (the writer's, `sql`'s and the report's).
pub fn table_schema(name: &str) -> datafusion::arrow::datatypes::SchemaRef {
    match name {
        "gmv_minute" => views::gmv_minute_schema(),
        "claimants" => views::claimants_schema(),
        other => schema::schema(other),
    }
}
