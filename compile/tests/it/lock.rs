//! The project lock: a second `lua` waits, then is refused naming the holder; a killed
//! holder frees it.

use std::time::{Duration, Instant};

use lua_compile::{ProjectLock, WriteError};

use crate::child::{spawn_lock, wait_for};

#[test]
fn a_second_acquirer_waits_then_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let held = ProjectLock::acquire(dir.path(), Duration::ZERO).unwrap();
    let start = Instant::now();
    let err = ProjectLock::acquire(dir.path(), Duration::from_millis(300)).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    let WriteError::Locked { holder } = &err else {
        panic!("{err}");
    };
    assert!(
        holder.starts_with(&format!("pid {} (", std::process::id())),
        "{holder}"
    );
    assert_eq!(
        err.to_string(),
        format!("the project is in use by {holder}; try again when it is done")
    );
    drop(held);
    // Released: the next one gets it at once.
    ProjectLock::acquire(dir.path(), Duration::ZERO).unwrap();
}

#[test]
fn a_waiting_acquirer_gets_the_lock_once_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let held = ProjectLock::acquire(dir.path(), Duration::ZERO).unwrap();
    let root = dir.path().to_path_buf();
    let waiter = std::thread::spawn(move || ProjectLock::acquire(&root, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(100));
    drop(held);
    waiter.join().unwrap().unwrap();
}

#[cfg(unix)]
#[test]
fn the_lock_of_a_killed_holder_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_lock(dir.path());
    wait_for(&mut child, "locked");
    let err = ProjectLock::acquire(dir.path(), Duration::from_millis(50)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the project is in use by pid {} (it --exact child::lock_in_child --nocapture --test-threads -q); try again when it is done",
            child.id()
        )
        .replace("(it ", &format!("({} ", exe_name()))
    );
    child.kill().unwrap();
    child.wait().unwrap();
    ProjectLock::acquire(dir.path(), Duration::ZERO).unwrap();
}

fn exe_name() -> String {
    std::env::current_exe()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}
