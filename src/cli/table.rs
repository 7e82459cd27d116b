//! The plain-text tables the commands print: aligned columns under a header, as kubectl's.

/// Aligned columns with a header, two spaces apart, the last column unpadded and each line
/// without trailing spaces.
pub fn table<Row: AsRef<[String]>>(header: &[&str], rows: &[Row]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        text.push_str(l.trim_end());
        text.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.as_ref().iter().map(String::as_str).collect());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell_and_lines_end_without_spaces() {
        let rows = vec![
            vec!["web".to_string(), "Synced".to_string(), "".to_string()],
            vec![
                "a".to_string(),
                "OutOfSync".to_string(),
                "drift".to_string(),
            ],
        ];
        assert_eq!(
            table(&["NAME", "SYNC", "MESSAGE"], &rows),
            "NAME  SYNC       MESSAGE\nweb   Synced\na     OutOfSync  drift\n"
        );
    }
}
