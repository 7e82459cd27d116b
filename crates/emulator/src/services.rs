//! Service cluster IPs (10.96.0.0/12, handed out in order) and node ports (30000-32767):
//! the stateful part of creating a Service, as the real API server's allocators do it.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::status::{ApiError, Cause};

const IP_BASE: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const IP_COUNT: u32 = 1 << 20;
const PORT_MIN: u16 = 30000;
const PORT_MAX: u16 = 32767;

type Owner = (String, String);

/// Who holds which cluster IP and node port.
#[derive(Debug, Default)]
pub struct ServiceAllocator {
    ips: HashMap<u32, Owner>,
    ports: HashMap<u16, Owner>,
    next_ip: u32,
    next_port: u16,
}

/// What a Service gets: its cluster IP (None for headless/ExternalName) and node ports.
struct Plan {
    ip: Option<u32>,
    ports: Vec<(usize, u16)>,
}

fn invalid(name: &str, field: &str, message: String) -> ApiError {
    ApiError::invalid_kind(
        "",
        "Service",
        name,
        vec![Cause::new("FieldValueInvalid", field, message)],
    )
}

impl ServiceAllocator {
    /// Fills `spec.clusterIP(s)` and node ports of a Service being written, reserving them.
    pub fn assign(
        &mut self,
        obj: &mut Value,
        previous: Option<&Value>,
        ns: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let plan = self.plan(obj, previous, ns, name)?;
        write_plan(obj, &plan);
        self.release(ns, name);
        let owner = (ns.to_string(), name.to_string());
        if let Some(ip) = plan.ip {
            self.ips.insert(ip, owner.clone());
            self.next_ip = ip.wrapping_add(1) % IP_COUNT;
        }
        for (_, p) in &plan.ports {
            self.ports.insert(*p, owner.clone());
            self.next_port = p.wrapping_add(1);
        }
        Ok(())
    }

    /// Like [`assign`](Self::assign) without reserving anything (dry runs).
    pub fn preview(&self, obj: &mut Value, previous: Option<&Value>) -> Result<(), ApiError> {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let plan = self.plan(obj, previous, &ns, &name)?;
        write_plan(obj, &plan);
        Ok(())
    }

    /// Frees everything the Service holds.
    pub fn release(&mut self, ns: &str, name: &str) {
        self.ips.retain(|_, o| !(o.0 == ns && o.1 == name));
        self.ports.retain(|_, o| !(o.0 == ns && o.1 == name));
    }

    fn held_by_other(&self, owner: Option<&Owner>, ns: &str, name: &str) -> bool {
        owner.is_some_and(|o| !(o.0 == ns && o.1 == name))
    }

    fn plan(
        &self,
        obj: &Value,
        previous: Option<&Value>,
        ns: &str,
        name: &str,
    ) -> Result<Plan, ApiError> {
        let spec = obj.get("spec");
        let svc_type = spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        if svc_type == "ExternalName" {
            return Ok(Plan {
                ip: None,
                ports: Vec::new(),
            });
        }
        let requested = spec
            .and_then(|s| s.get("clusterIP"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| {
                spec.and_then(|s| s.pointer("/clusterIPs/0"))
                    .and_then(Value::as_str)
            })
            .filter(|s| !s.is_empty());
        let prev_ip = previous
            .and_then(|p| p.pointer("/spec/clusterIP"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if let (Some(r), Some(p)) = (requested, prev_ip)
            && r != p
        {
            return Err(invalid(
                name,
                "spec.clusterIP",
                format!("Invalid value: \"{r}\": field is immutable"),
            ));
        }
        let ip = match requested.or(prev_ip) {
            Some("None") => None,
            Some(text) => {
                let addr: Ipv4Addr = text.parse().map_err(|_| {
                    invalid(
                        name,
                        "spec.clusterIP",
                        format!("Invalid value: \"{text}\": must be a valid IP address"),
                    )
                })?;
                let off = u32::from(addr).wrapping_sub(IP_BASE);
                if off >= IP_COUNT {
                    return Err(invalid(
                        name,
                        "spec.clusterIP",
                        format!(
                            "Invalid value: \"{text}\": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"
                        ),
                    ));
                }
                if self.held_by_other(self.ips.get(&off), ns, name) {
                    return Err(invalid(
                        name,
                        "spec.clusterIP",
                        format!("Invalid value: \"{text}\": provided IP is already allocated"),
                    ));
                }
                Some(off)
            }
            None => Some(self.free_ip()?),
        };
        let mut ports = Vec::new();
        if matches!(svc_type, "NodePort" | "LoadBalancer") {
            let prev_ports = previous
                .and_then(|p| p.pointer("/spec/ports"))
                .and_then(Value::as_array);
            let list = spec.and_then(|s| s.get("ports")).and_then(Value::as_array);
            for (i, port) in list.into_iter().flatten().enumerate() {
                let given = port
                    .get("nodePort")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok());
                let kept = prev_ports.and_then(|pp| {
                    pp.iter()
                        .find(|p| {
                            p.get("port") == port.get("port")
                                && p.get("protocol") == port.get("protocol")
                        })
                        .and_then(|p| p.get("nodePort"))
                        .and_then(Value::as_u64)
                        .and_then(|n| u16::try_from(n).ok())
                });
                let chosen = match given.or(kept) {
                    Some(n) => {
                        let field = format!("spec.ports[{i}].nodePort");
                        if !(PORT_MIN..=PORT_MAX).contains(&n) {
                            return Err(invalid(
                                name,
                                &field,
                                format!(
                                    "Invalid value: {n}: provided port is not in the valid range. The range of valid ports is 30000-32767"
                                ),
                            ));
                        }
                        if self.held_by_other(self.ports.get(&n), ns, name)
                            || ports.iter().any(|(_, p)| *p == n)
                        {
                            return Err(invalid(
                                name,
                                &field,
                                format!("Invalid value: {n}: provided port is already allocated"),
                            ));
                        }
                        n
                    }
                    None => self.free_port(&ports)?,
                };
                ports.push((i, chosen));
            }
        }
        Ok(Plan { ip, ports })
    }

    fn free_ip(&self) -> Result<u32, ApiError> {
        // Offset 0 is the network address; start at .1 like the real allocator's first pick
        // for the `kubernetes` Service.
        let start = self.next_ip.max(1);
        (0..IP_COUNT)
            .map(|i| 1 + (start - 1 + i) % (IP_COUNT - 1))
            .find(|ip| !self.ips.contains_key(ip))
            .ok_or_else(|| ApiError::internal("no cluster IP left in 10.96.0.0/12"))
    }

    fn free_port(&self, taken: &[(usize, u16)]) -> Result<u16, ApiError> {
        let span = PORT_MAX - PORT_MIN + 1;
        let start = self.next_port.clamp(PORT_MIN, PORT_MAX) - PORT_MIN;
        (0..span)
            .map(|i| PORT_MIN + (start + i) % span)
            .find(|p| !self.ports.contains_key(p) && !taken.iter().any(|(_, t)| t == p))
            .ok_or_else(|| ApiError::internal("no node port left in 30000-32767"))
    }
}

fn write_plan(obj: &mut Value, plan: &Plan) {
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    let svc_type = obj
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if svc_type == "ExternalName" {
        return;
    }
    let spec = &mut obj["spec"];
    let ip = match plan.ip {
        Some(off) => Ipv4Addr::from(IP_BASE + off).to_string(),
        None => "None".to_string(),
    };
    spec["clusterIP"] = json!(ip);
    spec["clusterIPs"] = json!([ip]);
    if spec.get("ipFamilies").is_none() {
        spec["ipFamilies"] = json!(["IPv4"]);
    }
    if spec.get("ipFamilyPolicy").is_none() {
        spec["ipFamilyPolicy"] = json!("SingleStack");
    }
    for (i, port) in &plan.ports {
        if let Some(p) = spec
            .get_mut("ports")
            .and_then(|p| p.get_mut(*i))
            .and_then(Value::as_object_mut)
        {
            p.insert("nodePort".into(), json!(port));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(spec: Value) -> Value {
        json!({"metadata": {"name": "s", "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn allocates_in_order_and_keeps_ips_across_updates() {
        let mut a = ServiceAllocator::default();
        let mut s1 = svc(json!({"ports": [{"port": 80}]}));
        a.assign(&mut s1, None, "default", "s1").unwrap();
        assert_eq!(s1["spec"]["clusterIP"], "10.96.0.1");
        assert_eq!(s1["spec"]["clusterIPs"], json!(["10.96.0.1"]));
        let mut s2 = svc(json!({}));
        a.assign(&mut s2, None, "default", "s2").unwrap();
        assert_eq!(s2["spec"]["clusterIP"], "10.96.0.2");
        let mut s1b = svc(json!({"ports": [{"port": 81}]}));
        a.assign(&mut s1b, Some(&s1), "default", "s1").unwrap();
        assert_eq!(s1b["spec"]["clusterIP"], "10.96.0.1");
        let mut moved = svc(json!({"clusterIP": "10.96.0.9"}));
        let e = a
            .assign(&mut moved, Some(&s1), "default", "s1")
            .unwrap_err();
        assert_eq!(e.code, 422);
        let mut taken = svc(json!({"clusterIP": "10.96.0.2"}));
        assert!(a.assign(&mut taken, None, "other", "x").is_err());
        a.release("default", "s2");
        a.assign(&mut taken, None, "other", "x").unwrap();
    }

    #[test]
    fn headless_external_name_and_node_ports() {
        let mut a = ServiceAllocator::default();
        let mut h = svc(json!({"clusterIP": "None"}));
        a.assign(&mut h, None, "d", "h").unwrap();
        assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
        let mut e = svc(json!({"type": "ExternalName", "externalName": "x.example"}));
        a.assign(&mut e, None, "d", "e").unwrap();
        assert!(e["spec"].get("clusterIP").is_none());
        let mut n = svc(
            json!({"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "TCP"}]}),
        );
        let mut preview = n.clone();
        a.preview(&mut preview, None).unwrap();
        a.assign(&mut n, None, "d", "n").unwrap();
        assert_eq!(n["spec"]["ports"][0]["nodePort"], 30000);
        assert_eq!(n["spec"]["ports"][1]["nodePort"], 30001);
        assert_eq!(preview["spec"]["ports"], n["spec"]["ports"]);
        let mut again =
            svc(json!({"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}));
        a.assign(&mut again, Some(&n), "d", "n").unwrap();
        assert_eq!(again["spec"]["ports"][0]["nodePort"], 30000);
    }
}
