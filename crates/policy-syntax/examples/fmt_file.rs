//! Formats the files named on the command line to standard output (a development aid; the command line
//! has `policy fmt`).

fn main() {
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        match policy_syntax::format(&text) {
            Ok(out) => print!("{out}"),
            Err(errors) => {
                for e in errors {
                    eprintln!("{path}:{}: {}", e.start, e.message);
                }
            }
        }
    }
}
