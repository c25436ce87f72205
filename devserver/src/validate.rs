//! What the platform accepts as an agent id and as a persona: shared by startup (seed,
//! `--agent`), the API and the dashboard. Knows nothing of HTTP or storage.

/// Agent ids become URL path segments and HTML: keep them to a safe, unambiguous alphabet.
pub(crate) fn validate_agent_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("it is empty");
    }
    if id.len() > 128 {
        return Err("it is longer than 128 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err("use only letters, digits, '_', '-' and '.'");
    }
    Ok(())
}

/// Checks a persona the way the API does: a string, or an object whose values are strings.
pub(crate) fn check_persona(persona: &serde_json::Value) -> Result<(), String> {
    match persona {
        serde_json::Value::String(_) => Ok(()),
        serde_json::Value::Object(map) => match map.iter().find(|(_, v)| !v.is_string()) {
            Some((key, _)) => Err(format!("`persona.{key}` must be a string")),
            None => Ok(()),
        },
        _ => Err("`persona` must be a string or an object of strings".to_owned()),
    }
}
