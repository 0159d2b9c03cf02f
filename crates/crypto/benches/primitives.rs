//! Native timing of the crypto primitives (`cargo bench -p
//! vottery-crypto-core --features bench`); `bench/crypto` compares it with
//! the same workload inside a component.

fn main() {
    let iterations = std::env::var("ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    for (name, ns) in vottery_crypto_core::bench::run(iterations) {
        println!("{name}\t{ns:.0}");
    }
}
