//! `ward authorize`.

use clap::Args;

// `ward authorize`. The token checked is the one sent: `--token TOKEN`,
// `--token -` (read from stdin), else WARD_TOKEN or your session.
#[derive(Debug, Args)]
#[command(after_help = "The token checked is the one ward sends: --token TOKEN, or --token - to read it \
from stdin, else WARD_TOKEN, else your `ward login` session.\n\nExit codes: 0 allow; 4 deny, \
approval_required or insufficient scope (403); 3 a missing, malformed, unknown, expired or revoked \
token (401). With --output json the answer's `decision` tells deny from approval_required.")]
pub struct AuthorizeArgs {
    /// The operation, as named in the server's [operations.NAME] config.
    #[arg(long, value_name = "OP")]
    pub operation: String,
    /// Confirm an `auto_approve` operation (it is allowed only when asked like this).
    #[arg(long)]
    pub auto_approve: bool,
    /// Retry a `human` operation with an approval an admin approved (single use).
    #[arg(long, value_name = "ID")]
    pub approval_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use crate::cli::{Command, parse};

    #[test]
    fn authorize_takes_the_global_token_flag() {
        let cli =
            parse(&["authorize", "--operation", "reboot", "--token", "-", "--auto-approve"]).expect("parses");
        assert_eq!(cli.global.token.as_deref(), Some("-"));
        let Command::Authorize(args) = cli.command else { panic!("not authorize") };
        assert!(args.auto_approve && args.approval_id.is_none());
    }
}
