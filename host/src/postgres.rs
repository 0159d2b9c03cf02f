pub struct Connection;
pub struct ConnectionBuilder;
#[derive(Default)]
pub struct Pools;
