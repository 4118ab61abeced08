//! Numbers for reading: `15550100001` becomes `+1 (555) 010-0001`.

/// A phone number as people read it. North American numbers (10 digits, or 11 starting
/// with a 1) get the familiar grouping; other international numbers are grouped in threes
/// after the plus sign; anything that is not a plain number is shown as it came.
#[must_use]
pub fn readable_number(number: &str) -> String {
    let plus = number.starts_with('+');
    let digits = number.trim_start_matches('+');
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return number.to_owned();
    }
    match (digits.len(), digits.as_bytes()[0]) {
        (11, b'1') => format!("+1 ({}) {}-{}", &digits[1..4], &digits[4..7], &digits[7..]),
        (10, _) if !plus => format!("({}) {}-{}", &digits[..3], &digits[3..6], &digits[6..]),
        (len, _) if plus && len > 6 => {
            let groups: Vec<&str> = digits
                .as_bytes()
                .chunks(3)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            format!("+{}", groups.join(" "))
        }
        _ => number.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::readable_number;

    #[test]
    fn north_american_international_and_odd_numbers() {
        assert_eq!(readable_number("15550100001"), "+1 (555) 010-0001");
        assert_eq!(readable_number("+15550100001"), "+1 (555) 010-0001");
        assert_eq!(readable_number("5550100001"), "(555) 010-0001");
        assert_eq!(readable_number("+442079460123"), "+442 079 460 123");
        assert_eq!(readable_number("100"), "100");
        assert_eq!(readable_number("alice"), "alice");
        assert_eq!(readable_number(""), "");
    }
}
