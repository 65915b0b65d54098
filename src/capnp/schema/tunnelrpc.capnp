# cftunnel: the tunnel RPC schema of docs/protocol.md §6.2, with every type ID and ordinal explicit so that IDs never depend
# on the file's text. Legacy (classic tunnel) items are kept because they pin IDs that the edge still knows.
@0xdb8274f9144abc7e;

# ---- legacy (classic tunnels), unused by named tunnels ----

struct Authentication @0xc082ef6e0d42ed1d {
  key         @0 :Text;
  email       @1 :Text;
  originCAKey @2 :Text;
}

struct TunnelRegistration @0xf41a0f001ad49e46 {
  err               @0 :Text;
  url               @1 :Text;
  logLines          @2 :List(Text);
  permanentFailure  @3 :Bool;
  tunnelID          @4 :Text;
  retryAfterSeconds @5 :UInt16;
  eventDigest       @6 :Data;
  connDigest        @7 :Data;
}

struct RegistrationOptions @0xc793e50592935b4a {
  clientId             @0  :Text;
  version              @1  :Text;
  os                   @2  :Text;
  existingTunnelPolicy @3  :ExistingTunnelPolicy;
  poolName             @4  :Text;
  tags                 @5  :List(Tag);
  connectionId         @6  :UInt8;
  originLocalIp        @7  :Text;
  isAutoupdated        @8  :Bool;
  runFromTerminal      @9  :Bool;
  compressionQuality   @10 :UInt64;
  uuid                 @11 :Text;
  numPreviousAttempts  @12 :UInt8;
  features             @13 :List(Text);
}

enum ExistingTunnelPolicy @0x84cb9536a2cf6d3c {
  ignore     @0;
  disconnect @1;
  balance    @2;
}

struct ServerInfo @0xf2c68e2547ec3866 {
  locationName @0 :Text;
}

struct AuthenticateResponse @0x82c325a07ad22a65 {
  permanentErr      @0 :Text;
  retryableErr      @1 :Text;
  jwt               @2 :Data;
  hoursUntilRefresh @3 :UInt8;
}

interface TunnelServer @0xea58385c65416035 extends (RegistrationServer) {
  registerTunnel   @0 (originCert :Data, hostname :Text, options :RegistrationOptions) -> (result :TunnelRegistration);
  getServerInfo    @1 () -> (result :ServerInfo);
  unregisterTunnel @2 (gracePeriodNanoSec :Int64) -> ();
  obsoleteDeclarativeTunnelConnect @3 () -> ();
  authenticate     @4 (originCert :Data, hostname :Text, options :RegistrationOptions) -> (result :AuthenticateResponse);
  reconnectTunnel  @5 (jwt :Data, eventDigest :Data, connDigest :Data, hostname :Text, options :RegistrationOptions) -> (result :TunnelRegistration);
}

struct Tag @0xcbd96442ae3bb01a {
  name  @0 :Text;
  value @1 :Text;
}

# ---- named-tunnel registration (in use) ----

struct ClientInfo @0x83ced0145b2f114b {
  clientId @0 :Data;          # 16-byte connector UUID
  features @1 :List(Text);
  version  @2 :Text;
  arch     @3 :Text;
}

struct ConnectionOptions @0xb4bf9861fe035d04 {
  client              @0 :ClientInfo;
  originLocalIp       @1 :Data;
  replaceExisting     @2 :Bool;
  compressionQuality  @3 :UInt8;
  numPreviousAttempts @4 :UInt8;
}

struct ConnectionResponse @0xdbaa9d03d52b62dc {
  result :union {
    error             @0 :ConnectionError;
    connectionDetails @1 :ConnectionDetails;
  }
}

struct ConnectionError @0xf5f383d2785edb86 {
  cause       @0 :Text;
  retryAfter  @1 :Int64;      # nanoseconds
  shouldRetry @2 :Bool;
}

struct ConnectionDetails @0xb5f39f082b9ac18a {
  uuid                    @0 :Data;   # 16-byte connection UUID
  locationName            @1 :Text;   # colo code, e.g. "ams01"
  tunnelIsRemotelyManaged @2 :Bool;
}

struct TunnelAuth @0x9496331ab9cd463f {
  accountTag   @0 :Text;
  tunnelSecret @1 :Data;
}

interface RegistrationServer @0xf71695ec7fe85497 {
  registerConnection       @0 (auth :TunnelAuth, tunnelId :Data, connIndex :UInt8, options :ConnectionOptions) -> (result :ConnectionResponse);
  unregisterConnection     @1 () -> ();
  updateLocalConfiguration @2 (config :Data) -> ();
}

# ---- served by the connector ----

struct RegisterUdpSessionResponse @0xab6d5210c1f26687 {
  err   @0 :Text;
  spans @1 :Data;             # OTLP protobuf spans
}

interface SessionManager @0x839445a59fb01686 {
  registerUdpSession   @0 (sessionId :Data, dstIp :Data, dstPort :UInt16, closeAfterIdleHint :Int64, traceContext :Text = "") -> (result :RegisterUdpSessionResponse);
  unregisterUdpSession @1 (sessionId :Data, message :Text) -> ();
}

struct UpdateConfigurationResponse @0xdb58ff694ba05cf9 {
  latestAppliedVersion @0 :Int32;
  err                  @1 :Text;
}

interface ConfigurationManager @0xb48edfbdaa25db04 {
  updateConfiguration @0 (version :Int32, config :Data) -> (result :UpdateConfigurationResponse);
}

interface CloudflaredServer @0xf548cef9dea2a4a1 extends (SessionManager, ConfigurationManager) {}
