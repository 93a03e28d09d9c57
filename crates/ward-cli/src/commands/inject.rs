//! `ward inject`: `${TOKEN:namespace:name}` references resolved from the
//! secret store into a file, each value escaped for where it lands in the
//! file's format (`--format`, else the template's name, else raw, which
//! says so). The store is opened only when there is a reference to
//! resolve; an unresolved reference, or a value that cannot sit where its
//! reference is, is an error that names it, and then nothing is written.

use crate::app::App;
use crate::cli::inject::InjectArgs;
use std::io::Write;
use std::process::ExitCode;
use ward_secrets::template::{self, Format};

pub fn inject(app: &App, args: InjectArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.input.display()))?;
    let format = match args.format {
        Some(format) => format.into(),
        None => Format::from_path(&args.input).unwrap_or_else(|| {
            let _ = writeln!(
                std::io::stderr(),
                "note: {} has no .json/.yaml/.yml/.toml/.env name, so values go in raw, not escaped (pass --format to escape them)",
                args.input.display()
            );
            Format::Raw
        }),
    };
    let rendered = template::render_as(&text, format, app.resolver())
        .map_err(|e| anyhow::Error::new(e).context(format!("rendering {}", args.input.display())))?;
    match &args.out {
        Some(out) => {
            ward_secrets::atomic::write(out, rendered.expose().as_bytes())?;
            writeln!(std::io::stderr(), "Wrote {} (mode 0600).", out.display())?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(rendered.expose().as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
