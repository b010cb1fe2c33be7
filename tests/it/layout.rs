//! Account sizes: the space each account is created with matches its layout, and the figures
//! (bytes, rent) that integrators and providers pay are printed for the docs.
use anchor_lang::Space;
use concord_market::{DrawEntry, DrawSet, Job, MarketConfig};
use concord_staking::{Provider, StakingConfig};
use concord_tests::pda;
use concord_tests::scenario::*;

#[tokio::test]
async fn accounts_are_created_with_their_declared_space() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let buyer = m.actor(10 * PRICE).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    let rent = m.bank.ctx.banks_client.get_rent().await.unwrap();
    let cases = [
        ("Job", job, 8 + Job::INIT_SPACE),
        (
            "Provider",
            pda::provider(&p.key()),
            8 + Provider::INIT_SPACE,
        ),
        (
            "MarketConfig",
            pda::market_config(),
            8 + MarketConfig::INIT_SPACE,
        ),
        (
            "StakingConfig",
            pda::staking_config(),
            8 + StakingConfig::INIT_SPACE,
        ),
        (
            "DrawEntry",
            pda::draw_entry(&p.key()),
            8 + DrawEntry::INIT_SPACE,
        ),
        ("DrawSet", m.draw_set, DrawSet::SPACE),
    ];
    for (name, address, space) in cases {
        let account = m.bank.raw_account(&address).await.expect(name);
        assert_eq!(account.data.len(), space, "{name}");
        let lamports = rent.minimum_balance(space);
        assert_eq!(account.lamports, lamports, "{name} is exactly rent-exempt");
        println!(
            "{name}: {space} bytes, rent {:.6} SOL",
            lamports as f64 / 1e9
        );
    }
}
