pub struct Store;
pub struct Stores;
impl Stores {
    pub fn new(_: &std::collections::BTreeMap<String, crate::runtime_config::KeyValueStore>) -> Self {
        Stores
    }
    pub fn has(&self, _: &str) -> bool {
        true
    }
}
