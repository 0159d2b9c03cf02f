//! Twilio's Messages API and Verify, as the real ones check a request.

use super::*;

/// Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
pub(crate) fn twilio(c: &Credentials, r: &Call<'_>) -> Checked {
    let error = |status: u16, code: u32, message: &str| {
        json_reply(
            status,
            &json!({
                "code": code, "message": message, "status": status,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            }),
        )
    };
    let account = r.segments[2];
    match r.basic() {
        Some((user, password))
            if user == c.twilio_account_sid && password == c.twilio_auth_token && account == user => {}
        Some((user, _)) if user == c.twilio_account_sid && account != user => {
            return refuse(error(404, 20404, "The requested resource was not found"));
        }
        _ => return refuse(error(401, 20003, "Authenticate")),
    }
    if !r.content_type_is("application/x-www-form-urlencoded") {
        return refuse(error(400, 21609, "Invalid content type; form-encoded parameters are expected"));
    }
    let form = r.form();
    let Some(to) = field(&form, "To") else { return refuse(error(400, 21604, "A 'To' phone number is required.")) };
    if !is_e164(to) {
        return refuse(error(400, 21211, &format!("Invalid 'To' Phone Number: {to}")));
    }
    let (from, service) = (field(&form, "From"), field(&form, "MessagingServiceSid"));
    if from.is_none() && service.is_none() {
        return refuse(error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"));
    }
    if let Some(sid) = service
        && !is_sid(sid, "MG")
    {
        return refuse(error(400, 21701, "The Messaging Service Sid is invalid"));
    }
    if let Some(from) = from
        && !is_e164(from)
        && !(1..=11).contains(&from.len())
    {
        return refuse(error(400, 21212, &format!("Invalid From Number (caller ID): {from}")));
    }
    let Some(text) = field(&form, "Body") else { return refuse(error(400, 21602, "Message body is required.")) };
    if text.chars().count() > 1600 {
        return refuse(error(400, 21617, "The concatenated message body exceeds the 1600 character limit."));
    }
    let sender = from.or(service).unwrap_or_default();
    let record = message("twilio", "sms", format!("SM{}", hex32()), to, sender, "", text);
    Ok((record, |m| {
        let sid = &m.id;
        json_reply(
            201,
            &json!({
                "sid": sid, "status": "queued", "to": m.to, "from": m.from, "body": m.text,
                "direction": "outbound-api", "num_segments": "1", "price": null, "error_code": null,
                "date_created": now().to_rfc2822(), "api_version": "2010-04-01",
            }),
        )
    }))
}

fn twilio_error(status: u16, code: u32, message: &str) -> Reply {
    json_reply(
        status,
        &json!({
            "code": code, "message": message, "status": status,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        }),
    )
}

/// Twilio Verify's credentials and service: `Ok(form)` or the refusal.
fn verify_service(c: &Credentials, r: &Call<'_>) -> Result<Vec<(String, String)>, Box<Reply>> {
    match r.basic() {
        Some((user, password)) if user == c.twilio_account_sid && password == c.twilio_auth_token => {}
        _ => return Err(Box::new(twilio_error(401, 20003, "Authenticate"))),
    }
    if r.segments[2] != c.twilio_verify_service_sid {
        return Err(Box::new(twilio_error(404, 20404, "The requested resource was not found")));
    }
    if !r.content_type_is("application/x-www-form-urlencoded") {
        return Err(Box::new(twilio_error(400, 21609, "Invalid content type; form-encoded parameters are expected")));
    }
    Ok(r.form())
}

/// Twilio Verify: `POST /v2/Services/{ServiceSid}/Verifications` makes a
/// code and sends it.
pub(crate) fn verification(outbox: &Outbox, r: &Call<'_>) -> Checked {
    let form = verify_service(&outbox.credentials, r)?;
    let Some(to) = field(&form, "To") else { return refuse(twilio_error(400, 60200, "Invalid parameter: To")) };
    if !is_e164(to) {
        return refuse(twilio_error(400, 60200, "Invalid parameter: To"));
    }
    match field(&form, "Channel") {
        Some("sms" | "call" | "whatsapp") => {}
        _ => return refuse(twilio_error(400, 60200, "Invalid parameter: Channel")),
    }
    let n = u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap_or_default());
    let code = format!("{:06}", n % 1_000_000);
    if let Ok(mut pending) = outbox.verifications.lock() {
        pending.insert(to.to_owned(), (code.clone(), 0));
    }
    let text = format!("Your Vottery verification code is: {code}");
    let record = message("twilio-verify", "sms", format!("VE{}", hex32()), to, "Twilio Verify", "", &text);
    Ok((record, |m| {
        json_reply(
            201,
            &json!({
                "sid": m.id, "to": m.to, "channel": "sms", "status": "pending", "valid": false,
                "date_created": now().to_rfc3339(),
            }),
        )
    }))
}

/// Twilio Verify: `POST /v2/Services/{ServiceSid}/VerificationCheck`.
pub(crate) fn verification_check(outbox: &Outbox, r: &Call<'_>) -> Reply {
    let form = match verify_service(&outbox.credentials, r) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let (Some(to), Some(code)) = (field(&form, "To"), field(&form, "Code")) else {
        return twilio_error(400, 60200, "Invalid parameter");
    };
    let Ok(mut pending) = outbox.verifications.lock() else { return twilio_error(500, 20500, "Internal error") };
    let Some((expected, checks)) = pending.get_mut(to) else {
        return twilio_error(404, 20404, "The requested resource was not found");
    };
    let approved = expected == code;
    *checks += 1;
    let spent = *checks >= 5;
    if approved || spent {
        pending.remove(to);
    }
    let status = if approved { "approved" } else { "pending" };
    json_reply(200, &json!({ "to": to, "status": status, "valid": approved }))
}
