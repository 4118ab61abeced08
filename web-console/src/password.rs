//! The console password's Argon2id hash: made for the store ([`hash_password`]) and checked
//! at login ([`Checker::verify`]).
//!
//! A check needs ~19 MiB of working memory. Allocating it afresh for each check, on whichever
//! blocking thread runs it, lets the allocator keep a freed area per thread arena: measured
//! on the lab, a storm of logins (never more than two checks at once) grew the console to
//! 200 MiB. So a [`Checker`] keeps the areas it has used and hands them out again: with the
//! limiter's [`CHECKS_IN_FLIGHT`] places, at most that many areas ever exist, and memory
//! stays flat. Argon2 writes every block before it reads it, so
//! what a previous check left in an area does not matter.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::AppError;
use crate::limiter::CHECKS_IN_FLIGHT;

/// The Argon2id hash of `password` (a PHC string, with a random salt), for the store.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::internal(&e))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(&e))
}

/// Checks passwords against a stored hash in reused working memory.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    /// Areas not in use now.
    idle: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Checker {
    /// Whether `password` is the one `phc` (a PHC string from the store) was made from. A
    /// hash that cannot be read matches nothing.
    #[must_use]
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let (Ok(params), Ok(algorithm), Ok(salt)) = (
            Params::try_from(&parsed),
            Algorithm::try_from(parsed.algorithm),
            salt.decode_b64(&mut salt_bytes),
        ) else {
            return false;
        };
        let Ok(version) = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from)
        else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let mut area = self.take(params.block_count());
        let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut area,
        );
        self.give_back(area);
        // `Output`'s comparison takes the same time wherever the bytes differ.
        hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
    }

    /// An idle area of at least `blocks`, or a new one.
    fn take(&self, blocks: usize) -> Vec<Block> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match idle.iter().position(|area| area.len() >= blocks) {
            Some(index) => idle.swap_remove(index),
            None => vec![Block::default(); blocks],
        }
    }

    /// Keeps `area` for the next check (up to one per place for a check).
    fn give_back(&self, area: Vec<Block>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < CHECKS_IN_FLIGHT {
            idle.push(area);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_matches_and_areas_are_reused() {
        let hash = hash_password("correct horse battery").expect("hash");
        let checker = Checker::default();
        for _ in 0..3 {
            assert!(checker.verify("correct horse battery", &hash));
            assert!(!checker.verify("correct horse batterY", &hash));
        }
        assert_eq!(
            checker.idle.lock().expect("lock").len(),
            1,
            "one area, reused"
        );
        assert!(!checker.verify("x", "not a PHC string"));
        assert!(!checker.verify("x", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"));
    }
}
