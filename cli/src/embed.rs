//! `concord embed`: sentence embeddings as a verified Concord job. Reads a text file (one
//! sentence a line; blank lines skipped), tokenizes it with the model's tokenizer, builds the
//! embedding job (the model's weights are one blob providers cache), uploads and escrows it,
//! waits with progress until it settles, downloads the outputs verified against the agreed
//! hash, and writes `embeddings.npy` and `embeddings.jsonl`. Any mismatch exits non-zero.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::context::{ChainArgs, Ctx};
use crate::job::{result, submit, wait};
use crate::{emit, CliError, OutputFormat, Status};
use concord_model::{output, Model};

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Text file: one sentence a line (UTF-8; blank lines are skipped).
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    /// Directory to write `embeddings.npy` and `embeddings.jsonl` to.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Model directory (sentence-transformers layout; default: all-MiniLM-L6-v2 in the cache
    /// `scripts/setup.sh` fills, or `CONCORD_MODEL_DIR`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub escrow: submit::EscrowArgs,
    /// Give up waiting for settlement after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

pub async fn run(a: EmbedArgs, chain: &ChainArgs, out: OutputFormat) -> Result<Status, CliError> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| CliError::msg(format!("cannot read {}: {e}", a.file.display())))?;
    let sentences: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if sentences.is_empty() {
        return Err(CliError::msg(format!(
            "{} has no sentences (one a line)",
            a.file.display()
        )));
    }
    let dir = a.model.clone().unwrap_or_else(Model::default_dir);
    let model = Model::load(&dir)
        .map_err(|e| CliError::msg(format!("the model in {}: {e}", dir.display())))?;
    let tokens = model
        .tokenize(&sentences)
        .map_err(|e| CliError::msg(e.to_string()))?;
    let job = model
        .job(&tokens, a.escrow.max_runtime_ms)
        .map_err(|e| CliError::msg(e.to_string()))?;
    if out == OutputFormat::Text {
        println!(
            "{} sentences, {} tokens (longest {}, cut at {}); model {} (weights {})",
            sentences.len(),
            tokens.count(),
            tokens.longest(),
            model.max_tokens,
            dir.display(),
            model.weights_ref().hash.to_hex()
        );
    }
    let ctx = Ctx::new(chain)?;
    let mint = ctx.mint().await?;
    let created = submit::create(&ctx, &mint, &job, &a.escrow, out).await?;
    if out == OutputFormat::Text {
        println!(
            "job {} created, {} tokens escrowed; waiting for it to settle",
            created.address,
            mint.format(created.deposit)
        );
    }
    wait::until_state(
        &ctx,
        &created.address,
        wait::WaitFor::Settled,
        a.timeout,
        out,
    )
    .await?;
    let (agreed, _, outputs) = result::download(&ctx, &created.address, None, out).await?;
    let rows = model.embeddings(&outputs[0]);
    if rows.len() != sentences.len() || outputs.len() != 1 {
        return Err(CliError::msg(format!(
            "the agreed result holds {} embeddings for {} sentences",
            rows.len(),
            sentences.len()
        )));
    }
    std::fs::create_dir_all(&a.out)
        .map_err(|e| CliError::msg(format!("cannot create {}: {e}", a.out.display())))?;
    let npy = a.out.join("embeddings.npy");
    let jsonl = a.out.join("embeddings.jsonl");
    for (path, bytes) in [
        (&npy, output::npy(&rows)),
        (&jsonl, output::jsonl(&sentences, &rows)),
    ] {
        std::fs::write(path, bytes)
            .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
    }
    emit(
        out,
        json!({
            "job": created.address.to_string(),
            "result_hash": agreed.to_hex(),
            "sentences": rows.len(),
            "dims": model.shape.hidden,
            "files": [npy.display().to_string(), jsonl.display().to_string()],
        }),
        || {
            format!(
                "verified {} embeddings of {} dims against {}; wrote {} and {}",
                rows.len(),
                model.shape.hidden,
                agreed.to_hex(),
                npy.display(),
                jsonl.display()
            )
        },
    );
    Ok(Status::Ok)
}
