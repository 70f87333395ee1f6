//! Generated bindings of `proto/egov/**`. Proto types stay at the edges (`grpc/` modules and
//! clients); services turn them into domain values.
#![allow(clippy::all, missing_docs)]

/// Encoded `FileDescriptorSet` of every egov proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/egov_descriptor.bin"));

pub mod egov {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("egov.common.v1");
        }
    }
    pub mod evaluation {
        pub mod v1 {
            tonic::include_proto!("egov.evaluation.v1");
        }
    }
    pub mod intake {
        pub mod v1 {
            tonic::include_proto!("egov.intake.v1");
        }
    }
    pub mod review {
        pub mod v1 {
            tonic::include_proto!("egov.review.v1");
        }
    }
    pub mod procurement {
        pub mod v1 {
            tonic::include_proto!("egov.procurement.v1");
        }
    }
    pub mod acceptance {
        pub mod v1 {
            tonic::include_proto!("egov.acceptance.v1");
        }
    }
    pub mod events {
        pub mod v1 {
            tonic::include_proto!("egov.events.v1");
        }
    }
}

/// The gRPC paths (`/package.Service/Method`) of every method of the services in `packages`, from
/// the descriptor set: what a service's role table must cover.
pub fn method_paths(packages: &[&str]) -> Vec<String> {
    let Ok(set) = <prost_types::FileDescriptorSet as prost::Message>::decode(FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    set.file
        .iter()
        .filter(|f| packages.contains(&f.package()))
        .flat_map(|f| {
            f.service.iter().flat_map(move |s| s.method.iter().map(move |m| format!("/{}.{}/{}", f.package(), s.name(), m.name())))
        })
        .collect()
}

pub use egov::{
    acceptance::v1 as acceptance, common::v1 as common, evaluation::v1 as evaluation, events::v1 as events, intake::v1 as intake,
    procurement::v1 as procurement, review::v1 as review,
};
