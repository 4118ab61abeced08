//! CSV for the phonebook's import and export (RFC 4180: commas, double quotes, quotes doubled
//! inside quoted fields, CRLF or LF line ends).
//!
//! Names come from whoever calls (the caller-ID name is theirs to choose), and a spreadsheet
//! runs a cell that starts with `=`, `+`, `-` or `@` as a formula. So the export puts a `'`
//! before such a value (not before a plain number like `+15550100001`), and the import takes
//! it off again.

/// What a spreadsheet may read as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One field, made inert for spreadsheets and quoted when it needs to be.
#[must_use]
pub fn field(value: &str) -> String {
    let plain_number = value
        .strip_prefix('+')
        .unwrap_or(value)
        .bytes()
        .all(|b| b.is_ascii_digit());
    let value = if value.starts_with(FORMULA_START) && !plain_number {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A field as read, without the `'` the export put before a formula-like value.
fn unescape(field: String) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest.to_owned(),
        _ => field,
    }
}

/// The records of a CSV text, each with its line number (from 1). A quote left open is an
/// error naming the line it opened on.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let (mut line, mut record_line) = (1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(unescape(std::mem::take(&mut field))),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(unescape(std::mem::take(&mut field)));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "line {record_line}: a quoted field is never closed"
        ));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(unescape(field));
        records.push((record_line, record));
    }
    Ok(records
        .into_iter()
        .filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_commas_and_line_ends_round_trip() {
        let name = "Smith, \"Doc\"";
        let text = format!(
            "number,name\r\n15550100001,{}\n15550100002,Mom\n\n",
            field(name)
        );
        let records = parse(&text).expect("valid");
        assert_eq!(records.len(), 3);
        assert_eq!(records[1], (2, vec!["15550100001".into(), name.into()]));
        assert_eq!(records[2].0, 3);
        assert!(parse("1,\"open\n2,x").is_err());
        assert_eq!(field("plain"), "plain");
    }

    #[test]
    fn formulas_from_callers_are_made_inert_and_come_back_on_import() {
        for (name, exported) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "\"'=HYPERLINK(\"\"http://evil.example\"\")\"",
            ),
            ("+cmd", "'+cmd"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+15550100001", "+15550100001"),
            ("Mom", "Mom"),
        ] {
            assert_eq!(field(name), exported, "{name}");
            let records = parse(&format!("15550100001,{exported}\n")).expect("valid");
            assert_eq!(records[0].1[1], name, "round trip of {name}");
        }
        let kept = parse("1,'quoted on purpose\n").expect("valid");
        assert_eq!(
            kept[0].1[1], "'quoted on purpose",
            "other leading quotes are kept"
        );
    }
}
