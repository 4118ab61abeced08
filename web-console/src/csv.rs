//! CSV for the phonebook's import and export (RFC 4180: commas, double quotes, quotes doubled
//! inside quoted fields, CRLF or LF line ends).

/// One field, quoted when it needs to be.
#[must_use]
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
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
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
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
        record.push(field);
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
}
