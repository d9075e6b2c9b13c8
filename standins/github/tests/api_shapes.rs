//! The stand-in's answers deserialize into octocrab's models, and its status codes follow GitHub's
//! (422 for an existing ref or pull request, 409 for a stale sha, 401 without a token).

use github_standin::{RunningStandin, StandinConfig, start};
use octocrab::Octocrab;
use octocrab::params::repos::Reference;

const TOKEN: &str = "ghp_shapes";

async fn standin(dir: &std::path::Path) -> RunningStandin {
    start(StandinConfig {
        repo_dir: dir.join("infra.git"),
        owner: "acme".into(),
        name: "infra".into(),
        default_branch: "main".into(),
        token: TOKEN.into(),
        app: None,
        bind: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap()
}

fn client(standin: &RunningStandin, token: &str) -> Octocrab {
    Octocrab::builder()
        .base_uri(standin.url())
        .unwrap()
        .personal_token(token.to_owned())
        .build()
        .unwrap()
}

fn status(e: &octocrab::Error) -> u16 {
    match e {
        octocrab::Error::GitHub { source, .. } => source.status_code.as_u16(),
        other => panic!("expected a GitHub error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octocrab_models_read_every_answer() {
    let dir = tempfile::tempdir().unwrap();
    let standin = standin(dir.path()).await;
    let gh = client(&standin, TOKEN);
    let repos = gh.repos("acme", "infra");

    let repo = repos.get().await.expect("Repository");
    assert_eq!(repo.full_name.as_deref(), Some("acme/infra"));
    assert_eq!(repo.default_branch.as_deref(), Some("main"));

    let main = repos
        .get_ref(&Reference::Branch("main".into()))
        .await
        .expect("Ref");
    let octocrab::models::repos::Object::Commit { sha: main_sha, .. } = main.object else {
        panic!("commit ref")
    };
    assert_eq!(standin.repo().log("main").await.unwrap()[0], main_sha);

    let branch = Reference::Branch("stagesub/shape-test".into());
    let created = repos
        .create_ref(&branch, main_sha.clone())
        .await
        .expect("create Ref");
    assert_eq!(created.ref_field, "refs/heads/stagesub/shape-test");
    let again = repos
        .create_ref(&branch, main_sha.clone())
        .await
        .unwrap_err();
    assert_eq!(status(&again), 422);
    assert!(
        again.to_string().contains("Reference already exists")
            || format!("{again:?}").contains("Reference already exists")
    );

    let update = repos
        .create_file("tenants/a.tf", "add a", "hello\n")
        .branch("stagesub/shape-test")
        .send()
        .await
        .expect("FileUpdate");
    let blob_sha = update.content.sha.clone();
    let commit_sha = update.commit.sha.clone().expect("commit sha");
    assert_eq!(
        standin.repo().log("stagesub/shape-test").await.unwrap()[0],
        commit_sha
    );
    assert_eq!(
        standin
            .repo()
            .read("stagesub/shape-test", "tenants/a.tf")
            .await
            .as_deref(),
        Some(&b"hello\n"[..])
    );

    let mut items = repos
        .get_content()
        .path("tenants/a.tf")
        .r#ref("stagesub/shape-test")
        .send()
        .await
        .expect("ContentItems");
    let file = items.take_items().pop().expect("one item");
    assert_eq!(file.sha, blob_sha);
    assert_eq!(file.decoded_content().as_deref(), Some("hello\n"));

    // Writing without the sha of an existing file, or with a stale one, is refused.
    let no_sha = repos
        .create_file("tenants/a.tf", "again", "x")
        .branch("stagesub/shape-test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&no_sha), 422);
    let stale = repos
        .update_file(
            "tenants/a.tf",
            "stale",
            "x",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .branch("stagesub/shape-test")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&stale), 409);
    let ok = repos
        .update_file("tenants/a.tf", "update a", "bye\n", blob_sha)
        .branch("stagesub/shape-test")
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");

    let pulls = gh.pulls("acme", "infra");
    let pr = pulls
        .create("Provision a", "stagesub/shape-test", "main")
        .body("body")
        .send()
        .await
        .expect("PullRequest");
    assert_eq!(pr.number, 1);
    assert_eq!(pr.head.ref_field, "stagesub/shape-test");
    assert!(pr.html_url.is_some());
    let dup = pulls
        .create("Provision a", "stagesub/shape-test", "main")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&dup), 422);
    assert!(
        format!("{dup:?}").contains("A pull request already exists for acme:stagesub/shape-test.")
    );
    let listed = pulls
        .list()
        .state(octocrab::params::State::Open)
        .head("acme:stagesub/shape-test")
        .base("main")
        .send()
        .await
        .expect("Page<PullRequest>");
    assert_eq!(listed.items.len(), 1);
    let other = pulls
        .list()
        .head("acme:stagesub/none")
        .send()
        .await
        .unwrap();
    assert!(other.items.is_empty());

    // A branch without commits of its own cannot be proposed.
    repos
        .create_ref(&Reference::Branch("stagesub/empty".into()), main_sha)
        .await
        .unwrap();
    let empty = pulls
        .create("nothing", "stagesub/empty", "main")
        .send()
        .await
        .unwrap_err();
    assert!(format!("{empty:?}").contains("No commits between"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_need_the_token_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let standin = standin(dir.path()).await;
    let wrong = client(&standin, "ghp_wrong");
    let err = wrong.repos("acme", "infra").get().await.unwrap_err();
    assert_eq!(status(&err), 401);
    let missing = client(&standin, TOKEN)
        .repos("acme", "other")
        .get()
        .await
        .unwrap_err();
    assert_eq!(status(&missing), 404);
    let log = standin.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str(), log[0].status),
        ("GET", "/repos/acme/infra", 401)
    );
    assert_eq!(log[1].status, 404);
    assert!(log.iter().all(|r| !r.wrote));
}
