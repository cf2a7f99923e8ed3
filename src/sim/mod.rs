/// Scenarios: the TOML files `osilab simulate` runs, loaded into checked plain data.
pub mod scenario;
