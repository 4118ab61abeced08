//! What several fuzz targets share: how an input byte picks a link type.

use ringside_core::packet::LinkType;

/// Every link type the decoder reads, in the order the seed script (`seeds.py`) numbers them.
const LINKS: [LinkType; 5] = [
    LinkType::RawIp,
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
];

/// The link type a selector byte picks (its value modulo the number of link types).
#[must_use]
pub fn link_type(selector: u8) -> LinkType {
    LINKS[usize::from(selector) % LINKS.len()]
}
