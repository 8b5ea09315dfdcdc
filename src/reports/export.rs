//! Report tables as files: CSV (UTF-8 with a byte-order mark, so a spreadsheet opened by double
//! click reads the Chinese right) and a real .xlsx workbook with one sheet per table — the same
//! cells the page shows, numbers as numbers.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::report::{Cell, Report, Table};

/// One table as CSV.
pub fn csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&table.columns)?;
        for row in &table.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Empty => String::new(),
                c => c.display(),
            }))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The tables as a workbook: a title row with the site and range, then the headings and rows.
pub fn xlsx(report: &Report, tables: &[&Table]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let one_decimal = Format::new().set_num_format("0.0");
    for table in tables {
        let sheet = book.add_worksheet();
        // Sheet names are at most 31 characters; our table ids are short and plain.
        sheet.set_name(&table.id)?;
        sheet.write_string_with_format(0, 0, &table.title, &bold)?;
        sheet.write_string(
            0,
            1,
            format!("{} {} – {}", report.site, report.from, report.to),
        )?;
        for (c, heading) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(2, c as u16, heading, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 3;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Real(x) => {
                        sheet.write_number_with_format(r, c, *x, &one_decimal)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        sheet.set_column_width(0, 28)?;
    }
    book.save_to_buffer()
}
