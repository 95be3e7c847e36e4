//! The embedded standard library (`stdlib/*.rhai`), served as static modules.

use rhai::Engine;
use rhai::module_resolvers::StaticModuleResolver;

pub fn resolver() -> StaticModuleResolver {
    StaticModuleResolver::new()
}

pub fn register(_engine: &mut Engine) {}
