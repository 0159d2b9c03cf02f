//! The mail providers: SendGrid, Postmark, Mailgun and Resend, each as the
//! real API checks a request.

use super::*;

fn sendgrid_error(status: u16, message: &str, field: Option<&str>) -> Reply {
    json_reply(status, &json!({ "errors": [{ "message": message, "field": field, "help": null }] }))
}

/// SendGrid v3: `POST /v3/mail/send`.
pub(crate) fn sendgrid(c: &Credentials, r: &Call<'_>) -> Checked {
    if r.bearer() != c.sendgrid_key {
        return refuse(sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked", None));
    }
    if !r.content_type_is("application/json") {
        return refuse(sendgrid_error(415, "Content-Type should be application/json.", None));
    }
    let Ok(body) = serde_json::from_slice::<Value>(r.body) else {
        return refuse(sendgrid_error(400, "Bad Request", None));
    };
    let to = body["personalizations"][0]["to"][0]["email"].as_str().unwrap_or_default();
    if !to.contains('@') {
        return refuse(sendgrid_error(
            400,
            "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
            Some("personalizations.0.to"),
        ));
    }
    let from = body["from"]["email"].as_str().unwrap_or_default();
    if !from.contains('@') {
        return refuse(sendgrid_error(
            400,
            "The from object must be provided for every email send. It is an object that requires an email parameter, but may also contain a name parameter.",
            Some("from"),
        ));
    }
    let subject = body["subject"].as_str().unwrap_or_default();
    if subject.is_empty() {
        return refuse(sendgrid_error(400, "The subject is required.", Some("subject")));
    }
    let content = &body["content"][0];
    let text = content["value"].as_str().unwrap_or_default();
    if content["type"].as_str().is_none() || text.is_empty() {
        return refuse(sendgrid_error(
            400,
            "The content value must be a string at least one character in length.",
            Some("content.0.value"),
        ));
    }
    let record = message("sendgrid", "email", hex32(), to, from, subject, text);
    Ok((record, |m| {
        let mut response = reply(202, "text/plain", "");
        if let Ok(id) = header::HeaderValue::from_str(&m.id) {
            response.headers_mut().insert("x-message-id", id);
        }
        response
    }))
}

/// Postmark: `POST /email`.
pub(crate) fn postmark(c: &Credentials, r: &Call<'_>) -> Checked {
    let error =
        |status: u16, code: u32, message: &str| json_reply(status, &json!({ "ErrorCode": code, "Message": message }));
    if r.header("x-postmark-server-token") != c.postmark_token {
        return refuse(error(401, 10, "Request does not contain a valid Server token."));
    }
    if !r.content_type_is("application/json") || !r.header("accept").contains("application/json") {
        return refuse(error(415, 0, "Accept and Content-Type must be application/json."));
    }
    let Ok(body) = serde_json::from_slice::<Value>(r.body) else {
        return refuse(error(422, 402, "Received invalid JSON input."));
    };
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    let (from, to, subject, text_body) = (text("From"), text("To"), text("Subject"), text("TextBody"));
    if !from.contains('@') {
        return refuse(error(422, 300, "Invalid 'From' address: no sender signature for this address."));
    }
    if !to.contains('@') {
        return refuse(error(422, 300, "Invalid 'To' address."));
    }
    if text_body.is_empty() && text("HtmlBody").is_empty() {
        return refuse(error(422, 300, "Provide either email TextBody or HtmlBody or both."));
    }
    let record = message("postmark", "email", uuid::Uuid::new_v4().to_string(), &to, &from, &subject, &text_body);
    Ok((record, |m| {
        json_reply(200, &json!({ "To": m.to, "SubmittedAt": m.at, "MessageID": m.id, "ErrorCode": 0, "Message": "OK" }))
    }))
}

/// Mailgun: `POST /v3/{domain}/messages`.
pub(crate) fn mailgun(c: &Credentials, r: &Call<'_>) -> Checked {
    let error = |status: u16, message: &str| json_reply(status, &json!({ "message": message }));
    match r.basic() {
        Some((user, key)) if user == "api" && key == c.mailgun_key => {}
        _ => return refuse(reply(401, "text/plain", "Forbidden")),
    }
    if r.segments[1] != c.mailgun_domain {
        return refuse(error(404, &format!("Domain not found: {}", r.segments[1])));
    }
    if !r.content_type_is("application/x-www-form-urlencoded") && !r.content_type_is("multipart/form-data") {
        return refuse(error(400, "form data is expected"));
    }
    let form = r.form();
    for name in ["from", "to", "subject"] {
        if field(&form, name).is_none() {
            return refuse(error(400, &format!("'{name}' parameter is missing")));
        }
    }
    let Some(text) = field(&form, "text").or(field(&form, "html")) else {
        return refuse(error(400, "Need at least one of 'text' or 'html' parameters specified"));
    };
    let get = |n| field(&form, n).unwrap_or_default();
    let id = format!("<{}@{}>", hex32(), c.mailgun_domain);
    let record = message("mailgun", "email", id, get("to"), get("from"), get("subject"), text);
    Ok((record, |m| json_reply(200, &json!({ "id": m.id, "message": "Queued. Thank you." }))))
}

/// Resend: `POST /emails`.
pub(crate) fn resend(c: &Credentials, r: &Call<'_>) -> Checked {
    let error = |status: u16, name: &str, message: &str| {
        json_reply(status, &json!({ "statusCode": status, "name": name, "message": message }))
    };
    if r.bearer().is_empty() {
        return refuse(error(401, "missing_api_key", "Missing API key in the authorization header."));
    }
    if r.bearer() != c.resend_key {
        return refuse(error(403, "invalid_api_key", "API key is invalid"));
    }
    let Ok(body) = serde_json::from_slice::<Value>(r.body) else {
        return refuse(error(422, "validation_error", "Invalid JSON body."));
    };
    let to = body["to"].as_str().or(body["to"][0].as_str()).unwrap_or_default().to_owned();
    let from = body["from"].as_str().unwrap_or_default().to_owned();
    let subject = body["subject"].as_str().unwrap_or_default().to_owned();
    let text = body["text"].as_str().or(body["html"].as_str()).unwrap_or_default().to_owned();
    for (name, value) in [("from", &from), ("to", &to), ("subject", &subject)] {
        if value.is_empty() {
            return refuse(error(422, "missing_required_field", &format!("Missing `{name}` field.")));
        }
    }
    if !to.contains('@') || !from.contains('@') {
        return refuse(error(422, "validation_error", "Invalid `to` or `from` field."));
    }
    let record = message("resend", "email", uuid::Uuid::new_v4().to_string(), &to, &from, &subject, &text);
    Ok((record, |m| json_reply(200, &json!({ "id": m.id }))))
}
