pub struct Connection;
#[derive(Default)]
pub struct Clients;
